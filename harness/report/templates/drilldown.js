/* Drill-down: draws one page of questions from the document in #drill-data (gzip-compressed JSON
   in base64, unpacked with the browser's own DecompressionStream).
   Model output is untrusted: it is only ever written with textContent, never as HTML. */
(function () {
  "use strict";
  var DATA = null;
  var PAGE_SIZE = 25;
  var state = { category: "", set: "", models: [], failed: false, unstable: false, search: "", page: 0 };


  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function $(id) { return document.getElementById(id); }

  function readHash() {
    var h = location.hash.replace(/^#/, "");
    if (h.indexOf("=") < 0) return; /* a plain section anchor such as #models */
    h.split("&").forEach(function (part) {
      var i = part.indexOf("=");
      if (i < 0) return;
      var k = decodeURIComponent(part.slice(0, i)), v = decodeURIComponent(part.slice(i + 1));
      if (k === "category") state.category = v;
      else if (k === "set") state.set = v;
      else if (k === "model") state.models = DATA.models.filter(function (m) { return v.split(",").indexOf(m) >= 0; });
      else if (k === "failed") state.failed = v === "1";
      else if (k === "unstable") state.unstable = v === "1";
      else if (k === "search") state.search = v;
      else if (k === "page") state.page = Math.max(0, (parseInt(v, 10) || 1) - 1);
    });
  }

  function writeHash() {
    var p = [];
    if (state.category) p.push("category=" + encodeURIComponent(state.category));
    if (state.set) p.push("set=" + encodeURIComponent(state.set));
    if (state.models.length !== DATA.models.length) p.push("model=" + state.models.map(encodeURIComponent).join(","));
    if (state.failed) p.push("failed=1");
    if (state.unstable) p.push("unstable=1");
    if (state.search) p.push("search=" + encodeURIComponent(state.search));
    if (state.page) p.push("page=" + (state.page + 1));
    try { history.replaceState(null, "", p.length ? "#" + p.join("&") : location.pathname + location.search); } catch (e) { /* file:// in some browsers */ }
  }

  function shown() { return state.models.map(function (m) { return DATA.models.indexOf(m); }); }

  // the rubric's verdict (every essential check passed); a page without one falls back to the score
  function acceptable(a) { return a.ac === true || ((a.ac === null || a.ac === undefined) && a.sc !== null && a.sc >= DATA.threshold); }
  function failedAnswer(a) { return !a.ok || (a.sc !== null && !acceptable(a)); }

  function matches(q, cols) {
    if (state.category && q.cat !== state.category) return false;
    if (state.set && q.set !== state.set) return false;
    if (state.failed && !cols.some(function (i) { return q.answers[i].some(failedAnswer); })) return false;
    if (state.unstable && !cols.some(function (i) { return q.status[i] && q.status[i][0] === "flips"; })) return false;
    if (state.search) {
      var s = state.search.toLowerCase();
      var hay = (q.id + " " + q.q + " " + (q.ref || "")).toLowerCase();
      if (hay.indexOf(s) < 0) return false;
    }
    return true;
  }

  var BADGE = { "stable right": "right", "flips": "flips", "stable wrong": "wrong" };

{% if calls %}
{% include "drilldown_calls.js" %}

{% endif %}
{% if passages %}
  // A Markdown table row's cells: the outer "|" dropped, split at each "|" not escaped as "\|".
  function cells(line) {
    var t = line.trim().replace(/^\|/, "").replace(/(^|[^\\])\|$/, "$1");
    return t.split(/(?<!\\)\|/).map(function (c) { return c.trim().replace(/\\\|/g, "|"); });
  }
  var TABLE_RULE = /^\|?(\s*:?-{3,}:?\s*\|)+\s*(:?-{3,}:?\s*)?$/;

  // A passage's text: each run of Markdown table lines (consecutive lines starting with "|", its second
  // line the "| --- |" rule) as an HTML table, header row from the first line, that scrolls sideways
  // rather than wrap a cell; any other lines as preformatted text. textContent only: documents are untrusted.
  function passageText(text) {
    var box = el("div", null, "passage-body"), lines = String(text).split("\n"), plain = [];
    function flush() { if (plain.length) box.appendChild(el("pre", plain.join("\n"), "passage-text")); plain = []; }
    for (var i = 0; i < lines.length;) {
      var j = i;
      while (j < lines.length && lines[j].trim().charAt(0) === "|") j += 1;
      if (j - i >= 2 && TABLE_RULE.test(lines[i + 1].trim())) {
        flush();
        var wrap = el("div", null, "passage-table-wrap"), table = el("table", null, "passage-table");
        var head = el("tr");
        cells(lines[i]).forEach(function (c) { head.appendChild(el("th", c)); });
        table.appendChild(el("thead")).appendChild(head);
        var body = table.appendChild(el("tbody"));
        lines.slice(i + 2, j).forEach(function (line) {
          if (TABLE_RULE.test(line.trim())) return;
          var tr = el("tr");
          cells(line).forEach(function (c) { tr.appendChild(el("td", c)); });
          body.appendChild(tr);
        });
        wrap.appendChild(table);
        box.appendChild(wrap);
        i = j;
      } else {
        var end = Math.max(j, i + 1); /* a run of "|" lines that is no table, or one other line */
        for (; i < end; i += 1) plain.push(lines[i]);
      }
    }
    flush();
    return box;
  }

  // The passages an answer was given, folded: id, file, heading path, page, then the text. The first one
  // holding the question's source (a.cx[4], its rank: what makes "source among them" true) is marked.
  function passageBlock(a, px) {
    var d = el("details", null, "passages");
    var hit = a.cx && a.cx[1] !== null ? (a.cx[1] ? " · source among them" : " · source not among them") : "";
    d.appendChild(el("summary", "passages given (" + a.p.length + ")" + hit));
    var holds = a.cx && a.cx[1] && a.cx[4] ? a.cx[4] : null;
    a.p.forEach(function (i, n) {
      var p = px[i];
      var where = [p[1], p[2], p[3] === null ? null : "page " + p[3]].filter(function (x) { return x; });
      var one = el("div", null, "passage" + (n + 1 === holds ? " holds-source" : ""));
      var line = one.appendChild(el("div", "[" + (n + 1) + "] " + p[0] + " · " + where.join(" · "), "muted"));
      if (n + 1 === holds) line.appendChild(el("span", "holds the source", "source-mark"));
      one.appendChild(passageText(p[4]));
      d.appendChild(one);
    });
    return d;
  }

{% endif %}
  function answerBlock(a, many{{ ", q" if calls or passages }}) {
    var box = el("div", null, "sample");
    if (many) box.appendChild(el("div", "sample " + a.s, "muted"));
    if (a.ok && a.r && a.r[2]) box.appendChild(el("div", "cut off while thinking: no answer (scores 0)", "answer fail cut-off"));
    else if (a.ok) box.appendChild(el("div", a.t, "answer"));
    else box.appendChild(el("div", "request failed: " + (a.e || ""), "answer fail"));
{% if calls %}
    if (a.c) box.appendChild(callBlock(a.c, q.xc));
{% endif %}
    if (a.r) {
      var th = el("details", null, "thinking");
      th.appendChild(el("summary", "thinking" + (a.r[1] === null ? "" : " (" + a.r[1] + " tokens)")));
      th.appendChild(el("div", a.r[0], "answer"));
      box.appendChild(th);
    }
    if (a.cx) {
      var hit = a.cx[1] === null ? "" : (a.cx[1] ? " · source passage given" : " · source passage missed");
      box.appendChild(el("div", "context: " + a.cx[0].join(", ") + hit, "muted"));
      // the faithfulness score with its reason, as a check shows its explanation (textContent: model text stays text)
      if (a.cx[2] !== null) box.appendChild(el("div", "faithfulness " + a.cx[2].toFixed(2) + (a.cx[3] ? ": " + a.cx[3] : ""), "muted faithful"));
    }
{% if passages %}
    if (a.p) box.appendChild(passageBlock(a, q.px));
{% endif %}
    if (a.sc !== null) {
      var ok = acceptable(a);
      var sc = el("div", "score " + a.sc.toFixed(2) + (ok ? " · acceptable" : " · not acceptable"), "score " + (ok ? "pass" : "fail"));
      box.appendChild(sc);
    }
    if (a.j) {
      var j = el("div", null, "judge-verdict");
      j.appendChild(document.createTextNode("judge: "));
      j.appendChild(a.j[1] ? el("strong", a.j[0] === null ? "–" : String(a.j[0])) : el("span", "unparsed", "fail"));
      var d = el("details");
      d.appendChild(el("summary", "judge's reply"));
      d.appendChild(el("div", a.j[2], "answer"));
      j.appendChild(d);
      box.appendChild(j);
    }
    if (a.ck.length) {
      var ul = el("ul", null, "checks");
      a.ck.forEach(function (c) {
        var text = (c[1] ? "✓ " : "✗ ") + c[0] + (c[2] ? (c[1] ? " (critical)" : " (critical: answer scores 0)") : "") + ": " + c[3];
        ul.appendChild(el("li", text, c[1] ? "pass" : "fail"));
      });
      box.appendChild(ul);
    }
    return box;
  }

  function render() {
    var cols = shown();
    var hits = DATA.questions.filter(function (q) { return matches(q, cols); });
    var pages = Math.max(1, Math.ceil(hits.length / PAGE_SIZE));
    if (state.page >= pages) state.page = pages - 1;
    var head = $("drill-head"), body = $("drill-body");
    head.textContent = "";
    body.textContent = "";
    var tr = el("tr");
    tr.appendChild(el("th", "question"));
    cols.forEach(function (i) { tr.appendChild(el("th", DATA.labels[i])); });
    head.appendChild(tr);
    hits.slice(state.page * PAGE_SIZE, (state.page + 1) * PAGE_SIZE).forEach(function (q) {
      var row = el("tr", null, "question");
      row.setAttribute("data-question", q.id);
      row.setAttribute("data-set", q.set);
      row.setAttribute("data-category", q.cat);
      var qc = el("td", null, "qcell");
      qc.appendChild(el("strong", q.id));
      qc.appendChild(document.createTextNode(" · " + q.cat + " · " + q.set + (q.w !== 1 ? " · weight " + q.w : "")));
      qc.appendChild(el("div", q.q));
      if (q.ref) qc.appendChild(el("div", "Reference: " + q.ref, "muted"));
{% if calls %}
      if (q.xc) qc.appendChild(expectedBlock(q.xc));
{% endif %}
      row.appendChild(qc);
      cols.forEach(function (i) {
        var td = el("td");
        td.setAttribute("data-candidate", DATA.models[i]);
        var st = q.status[i];
        if (st && st[2] === 1) {
          // one sample: the answer below says whether it is acceptable; how stable cannot be measured. A plan of
          // one sample says so once, above the table; a lone sample in a plan of several says so in its cell
          if (DATA.samples !== 1) td.appendChild(el("span", "one sample: stability not measured", "muted one-sample"));
        } else if (st) {
          var b = el("span", st[0] + " " + st[1] + "/" + st[2], "badge " + BADGE[st[0]]);
          b.title = st[1] + " of " + st[2] + " samples acceptable";
          td.appendChild(b);
          if (q.score[i] !== null) td.appendChild(el("span", " mean " + q.score[i].toFixed(2), "muted"));
        }
        var answers = q.answers[i];
        if (!answers.length) td.appendChild(el("div", "no answer", "muted"));
        answers.forEach(function (a) { td.appendChild(answerBlock(a, answers.length > 1{{ ", q" if calls or passages }})); });
        row.appendChild(td);
      });
      body.appendChild(row);
    });
    $("drill-count").textContent = hits.length + " of " + DATA.questions.length + " questions match";
    $("p-label").textContent = " page " + (state.page + 1) + " of " + pages + " ";
    $("p-prev").disabled = state.page === 0;
    $("p-next").disabled = state.page >= pages - 1;
  }

  function fill(select, values, current) {
    values.forEach(function (v) {
      var o = el("option", v);
      o.value = v;
      if (v === current) o.selected = true;
      select.appendChild(o);
    });
  }

  function changed() { state.page = 0; writeHash(); render(); }

  function init() {
    state.models = DATA.models.slice();
    readHash();
    fill($("f-category"), DATA.categories, state.category);
    fill($("f-set"), DATA.sets, state.set);
    var box = $("f-models");
    DATA.models.forEach(function (m, i) {
      var label = el("label");
      var cb = el("input");
      cb.type = "checkbox";
      cb.value = m;
      cb.checked = state.models.indexOf(m) >= 0;
      cb.addEventListener("change", function () {
        state.models = DATA.models.filter(function (n) {
          return n === m ? cb.checked : state.models.indexOf(n) >= 0;
        });
        changed();
      });
      label.appendChild(cb);
      label.appendChild(document.createTextNode(" " + DATA.labels[i] + " "));
      box.appendChild(label);
    });
    $("f-failed").checked = state.failed;
    $("f-unstable").checked = state.unstable;
    $("f-search").value = state.search;
    $("f-category").addEventListener("change", function (e) { state.category = e.target.value; changed(); });
    $("f-set").addEventListener("change", function (e) { state.set = e.target.value; changed(); });
    $("f-failed").addEventListener("change", function (e) { state.failed = e.target.checked; changed(); });
    $("f-unstable").addEventListener("change", function (e) { state.unstable = e.target.checked; changed(); });
    $("f-search").addEventListener("input", function (e) { state.search = e.target.value; changed(); });
    $("p-prev").addEventListener("click", function () { state.page -= 1; writeHash(); render(); });
    $("p-next").addEventListener("click", function () { state.page += 1; writeHash(); render(); });
    render();
  }

  if (typeof DecompressionStream === "undefined") {
    $("drill-count").textContent = "This browser cannot unpack the answers (it has no DecompressionStream: "
      + "Chrome 80, Firefox 113, Safari 16.4 or newer can). The figures above need no script.";
    return;
  }
  $("drill-count").textContent = "unpacking the answers …";
  harnessUnpack($("drill-data").textContent).then(function (data) { DATA = data; init(); }, function (err) {
    $("drill-count").textContent = "the answers could not be unpacked: " + err;
  });
})();
