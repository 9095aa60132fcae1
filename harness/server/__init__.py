"""The server layer: everything that talks to a model server, for the run, the judge and the load tests.

The contract is :class:`harness.server.model_server.ModelServer` (started or attached; ``health()``,
``metrics_url``, ``client(...)``, ``log_tail()``, ``exit_code``). Read top-down:

- ``reach``: serve a candidate or judge (start vLLM, attach to its endpoint, or borrow a LoRA base's
  server), choose chat or completions, share a server with the judge, what the manifest records;
- ``vllm_server``: the vLLM process lifecycle (the only code that starts a model server);
- ``model_server``: the contract (one ``/health`` probe, ``/metrics`` reader, the client factory);
- ``client`` (httpx) and ``fastclient`` (aiohttp, the load generator's), one ``ClientConfig`` for both;
  ``sse`` (event-stream parsing), ``flow`` (a server's requests to wait);
- ``watchdog`` (is the server still there; the breaker), ``adapters`` (LoRA adapters on their base's
  server), ``reasoning_parsers`` (vLLM's ``--reasoning-parser``; the plan's parser check), ``tool_parsers`` (its
  ``--tool-call-parser``), ``tool_stream`` (tool calls out of a streamed answer), ``tokenizer`` (a candidate's
  tokenizer, for counts a server does not give), ``token_split`` (thinking and answer tokens of one output);
- ``placement`` + ``workers``: which servers run on which GPUs of a node, one worker process (or Ray
  task) each; the run's fleet and the judges' both use them.

Only this package imports an HTTP stack (httpx, aiohttp): ``tests/test_architecture.py`` enforces it.
"""
