  /* Tool calls (a run whose calls were graded; harness.report.calls): the expected calls beside the made ones.
     A made call's name and arguments are model output: written with textContent only, as JSON text. */
  var OUTCOME_WORDS = {
    right: "right call", wrong_call: "wrong call", missed_call: "missed call: no call made",
    unexpected_call: "unexpected call: the question is to be answered without one",
    no_call_right: "right: answered without a call", unparsable: "unparsable call"
  };
  var IN_TEXT = "written in the text, not through the tool-call protocol";
  var ARG_WORDS = { missing: "missing", wrong_value: "wrong value", wrong_type: "wrong type", invented: "invented" };

  function callLine(name, args, note) {
    var d = el("div", null, "call");
    d.appendChild(el("code", name, "call-name"));
    d.appendChild(el("code", args === "" ? "{}" : args, "call-args"));
    if (note) d.appendChild(el("span", " " + note, "muted"));
    return d;
  }

  function expectedBlock(xc) {
    var box = el("div", null, "calls-expected");
    if (xc.no) { box.appendChild(el("div", "Expected: no call (answer directly)", "muted")); return box; }
    box.appendChild(el("div", "Expected call" + (xc.x.length > 1 ? "s" : "") + ":", "muted"));
    xc.x.forEach(function (c) { box.appendChild(callLine(c[0], c[1])); });
    return box;
  }

  function argError(e) {
    /* e: [kind, path, why, expected JSON text or null, got JSON text or null] */
    var li = el("li", null, "arg-error fail");
    li.setAttribute("data-kind", e[0]);
    li.setAttribute("data-path", e[1]);
    li.appendChild(el("strong", e[1], "arg-path"));
    li.appendChild(document.createTextNode(" " + (ARG_WORDS[e[0]] || e[0])));
    if (e[3] !== null) { li.appendChild(document.createTextNode(": expected ")); li.appendChild(el("code", e[3], "arg-expected")); }
    if (e[4] !== null) { li.appendChild(document.createTextNode((e[3] !== null ? ", got " : ": got "))); li.appendChild(el("code", e[4], "arg-got")); }
    else if (e[0] === "missing") li.appendChild(document.createTextNode(", not passed"));
    li.appendChild(el("div", e[2], "muted"));
    return li;
  }

  function madeCell(c, j) {
    var td = el("td");
    if (!c.m) { td.appendChild(el("span", "call " + (j + 1), "muted")); return td; }
    var m = c.m[j];
    if (!m) return td;
    td.appendChild(callLine(m[0], m[1]));
    if (m[3]) td.appendChild(el("div", IN_TEXT, "muted call-in-text"));
    if (m[2]) td.appendChild(el("div", "could not be read: " + m[2], "fail call-problem"));
    return td;
  }

  function callBlock(c, xc) {
    var right = c.o === "right" || c.o === "no_call_right";
    var box = el("div", null, "calls");
    box.setAttribute("data-outcome", c.o);
    box.appendChild(el("div", "calls: " + (OUTCOME_WORDS[c.o] || c.o), "call-outcome " + (right ? "pass" : "fail")));
    var expected = xc && xc.x ? xc.x : [];
    var t = el("table", null, "call-pairs");
    var head = el("tr");
    head.appendChild(el("th", "expected"));
    head.appendChild(el("th", "made"));
    t.appendChild(head);
    var shown = {};
    (c.p || []).forEach(function (p) {
      var tr = el("tr", null, p[3].length || !p[2] ? "fail" : "pass");
      var te = el("td");
      if (expected[p[0]]) te.appendChild(callLine(expected[p[0]][0], expected[p[0]][1]));
      if (!p[2]) te.appendChild(el("div", "another function was called", "fail"));
      if (p[3].length) {
        var ul = el("ul", null, "arg-errors");
        p[3].forEach(function (e) { ul.appendChild(argError(e)); });
        te.appendChild(ul);
      }
      tr.appendChild(te);
      tr.appendChild(madeCell(c, p[1]));
      shown[p[1]] = true;
      t.appendChild(tr);
    });
    (c.mi || []).forEach(function (k) {
      var tr = el("tr", null, "fail");
      var te = el("td");
      if (expected[k]) te.appendChild(callLine(expected[k][0], expected[k][1]));
      tr.appendChild(te);
      tr.appendChild(el("td", "not made", "fail"));
      t.appendChild(tr);
    });
    (c.m || []).forEach(function (m, j) {
      if (shown[j]) return;
      var tr = el("tr", null, right ? "" : "fail");
      var why = xc && xc.no ? "no call expected" : (c.o === "unparsable" ? (m[2] ? "not graded: the call could not be read" : "not graded: its arguments are not a JSON object") : "not expected (an extra or repeated call)");
      tr.appendChild(el("td", why, "fail"));
      tr.appendChild(madeCell(c, j));
      t.appendChild(tr);
    });
    if (t.childNodes.length > 1) box.appendChild(t);
    if (!right && c.why) box.appendChild(el("div", c.why, "muted call-why"));
    if (c.st) {
      var d = el("details", null, "call-steps");
      d.appendChild(el("summary", "rounds (" + c.st.length + ")"));
      c.st.forEach(function (s, i) {
        var r = el("div", null, "call-step");
        r.appendChild(el("div", "round " + (i + 1), "muted"));
        s[0].forEach(function (call) {
          var line = callLine(call[0], call[1]);
          if (call[2]) line.appendChild(el("span", " " + IN_TEXT, "muted call-in-text"));
          r.appendChild(line);
        });
        s[1].forEach(function (reply) { r.appendChild(el("div", "tool reply: " + reply, "call-reply")); });
        if (s[2]) r.appendChild(el("div", s[2], "answer"));
        d.appendChild(r);
      });
      box.appendChild(d);
    }
    return box;
  }
