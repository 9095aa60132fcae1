/* Review mode: a person grades the review queue's answers blind (docs/review.md).
   The queue is the document in #review-data (gzip-compressed JSON in base64, harness.report.review_data),
   unpacked with the browser's own DecompressionStream; the "Review answers" button is enabled once it is. Model output, questions and
   contexts are untrusted: they are only ever written with textContent, never as HTML.
   Grades are kept in localStorage under the run and the reviewer's name, exported as a review file
   (Blob download) and read back from one; a grade is tied to its answer's key and sha256. */
(function () {
  "use strict";
  var DATA = null, STORE = "", LAST = "";
  var byKey = {};
  var S = null;      /* the session: {reviewer, n, blind, pos, grades: {key: {sha, acceptable, grade, note, at}}} */
  var view = [];     /* the session's answers in the order shown: {i: item index, q: question number, a, k} */
  var nQuestions = 0;

  function $(id) { return document.getElementById(id); }
  function say(text) { $("rv-msg").textContent = text; }

  /* A seeded order: FNV-1a of a string seeds mulberry32, which shuffles (Fisher-Yates). */
  function hash32(str) {
    var h = 2166136261 >>> 0;
    for (var i = 0; i < str.length; i++) { h ^= str.charCodeAt(i); h = Math.imul(h, 16777619) >>> 0; }
    return h >>> 0;
  }
  function rng(seed) {
    var a = seed >>> 0;
    return function () {
      a = (a + 0x6D2B79F5) >>> 0;
      var t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  function shuffled(list, seedText) {
    var out = list.slice(), r = rng(hash32(seedText));
    for (var i = out.length - 1; i > 0; i--) {
      var j = Math.floor(r() * (i + 1)), t = out[i];
      out[i] = out[j]; out[j] = t;
    }
    return out;
  }

  /* The first n answers, grouped by question in queue order, each question's answers in the reviewer's order. */
  function buildView() {
    var groups = [], at = {};
    DATA.items.slice(0, S.n).forEach(function (it, i) {
      if (!(it.qi in at)) { at[it.qi] = groups.length; groups.push([]); }
      groups[at[it.qi]].push(i);
    });
    view = [];
    groups.forEach(function (g, qn) {
      var q = DATA.qs[DATA.items[g[0]].qi];
      shuffled(g, S.reviewer + "|" + DATA.seed + "|" + q.set + "|" + q.id).forEach(function (i, a) {
        view.push({ i: i, q: qn, a: a, k: g.length });
      });
    });
    nQuestions = groups.length;
  }

  function save() {
    try { localStorage.setItem(STORE + S.reviewer, JSON.stringify(S)); localStorage.setItem(LAST, S.reviewer); }
    catch (e) { say("This browser would not keep the grades (" + e.name + "): export them before you close the page."); }
  }
  function stored(name) {
    try { var raw = localStorage.getItem(STORE + name); return raw ? JSON.parse(raw) : null; } catch (e) { return null; }
  }

  function start(name, n) {
    if (!DATA.items.length) { say("This run has no answers to review."); return; }
    S = stored(name) || { reviewer: name, n: n || DATA.n, blind: true, pos: 0, grades: {} };
    S.n = Math.max(1, Math.min(n || S.n, DATA.items.length));
    S.pos = Math.min(S.pos || 0, S.n - 1);
    buildView();
    save();
    $("rv-start").hidden = true;
    $("rv-main").hidden = false;
    $("rv-unblind").checked = false;
    draw();
  }

  function graded(key) { var g = S.grades[key]; return g && typeof g.acceptable === "boolean"; }
  function progress() {
    var done = view.filter(function (v) { return graded(DATA.items[v.i].key); }).length;
    $("rv-progress").textContent = done + " of " + view.length + " answers graded";
    $("rv-local").textContent = "; in this browser, " + S.reviewer + " has graded " + done + " of " + view.length +
      " (export them, then add the file to the run)";
  }
  function unblinded() { return $("rv-unblind").checked; }

  function draw() {
    var v = view[S.pos], it = DATA.items[v.i], q = DATA.qs[it.qi], set = DATA.sets[q.set] || {};
    var g = S.grades[it.key] || {};
    var where = "Question " + (v.q + 1) + " of " + nQuestions + " · set " + q.set + " · question " + q.id +
      " · answer " + (S.pos + 1) + " of " + view.length;
    if (unblinded()) where += " · " + it.col + " · sample " + it.s + " · queued for: " + it.why.join(", ") + " · " + it.key;
    $("rv-where").textContent = where;
    $("rv-question").textContent = q.q;
    $("rv-reference").textContent = q.ref === null || q.ref === undefined ? "(no reference)" : q.ref;
    $("rv-set-context").textContent = (set.context || "").trim();
    $("rv-context").textContent = (it.cx || "").trim();
    $("rv-context-box").hidden = !set.context && !it.cx;
    $("rv-label").textContent = "Answer " + (v.a + 1) + " of " + v.k;
    var answer = $("rv-answer");
    if (it.e !== null && it.e !== undefined) answer.textContent = "(the request failed: " + it.e + ")";
    else if (it.cut) answer.textContent = "(cut off while thinking: no answer)";
    else answer.textContent = it.t;
    $("rv-verdict").textContent = g.acceptable === true ? "acceptable" : g.acceptable === false ? "not acceptable" : "not graded yet";
    $("rv-yes").className = g.acceptable === true ? "rv-on" : "";
    $("rv-no").className = g.acceptable === false ? "rv-on" : "";
    Array.prototype.forEach.call($("rv-grades").children, function (b) {
      b.className = Number(b.dataset.grade) === g.grade ? "rv-on" : "";
    });
    if (document.activeElement !== $("rv-note")) $("rv-note").value = g.note || "";
    progress();
  }

  function change(fields) {
    var it = DATA.items[view[S.pos].i];
    var g = S.grades[it.key] || { sha: it.sha, acceptable: null, grade: null, note: "" };
    Object.keys(fields).forEach(function (f) { g[f] = fields[f]; });
    g.sha = it.sha;
    g.at = new Date().toISOString();
    S.grades[it.key] = g;
    save();
    draw();
  }
  function move(step) {
    var last = S.pos + step > view.length - 1, first = S.pos + step < 0;
    S.pos = Math.max(0, Math.min(view.length - 1, S.pos + step));
    save();
    draw();
    if (last) {
      var left = view.length - view.filter(function (v) { return graded(DATA.items[v.i].key); }).length;
      say("This is the last answer" + (left ? " (" + left + " still without a yes/no)" : ": all graded") +
        ". Export the review file (e), or close (q) and start again with more answers.");
    } else if (first) say("This is the first answer.");
    else if ($("rv-msg").textContent.indexOf("This is the ") === 0) say("");
  }

  function fileName() { return "review-" + DATA.run + "-" + S.reviewer.replace(/[^A-Za-z0-9_.-]+/g, "_") + ".json"; }

  function exportFile() {
    var grades = [], open = 0;
    DATA.items.forEach(function (it) {
      var g = S.grades[it.key];
      if (!g) return;
      if (typeof g.acceptable !== "boolean") { open++; return; }
      if (g.sha !== it.sha) return;
      grades.push({ key: it.key, sha256: it.sha, acceptable: g.acceptable, grade: g.grade === undefined ? null : g.grade,
                    note: g.note || "", at: g.at || null });
    });
    var doc = { format: DATA.format, version: DATA.version, run: DATA.run, reviewer: S.reviewer, blind: S.blind,
                exported_at: new Date().toISOString(), grades: grades };
    var blob = new Blob([JSON.stringify(doc, null, 1)], { type: "application/json" });
    var a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = fileName();
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(function () { URL.revokeObjectURL(a.href); }, 10000);
    say("Exported " + grades.length + " grades to " + a.download + (open ? "; " + open +
        " answers with a grade or note but no acceptable yes/no were left out" : "") +
        ". Add it to the run: harness review add " + (DATA.run_dir || "RUN_DIR") + " " + a.download);
  }

  function validGrade(g) {
    return g && typeof g.key === "string" && typeof g.sha256 === "string" && typeof g.acceptable === "boolean" &&
      (g.grade === null || g.grade === undefined || (Number.isInteger(g.grade) && g.grade >= 1 && g.grade <= 10)) &&
      (g.note === undefined || g.note === null || typeof g.note === "string");
  }

  function loadFile(file) {
    file.text().then(function (text) {
      var doc;
      try { doc = JSON.parse(text); } catch (e) { say(file.name + " is not JSON: " + e.message); return; }
      if (!doc || doc.format !== DATA.format || doc.version !== DATA.version) {
        say(file.name + " is not a review file (format " + DATA.format + ", version " + DATA.version + ")"); return;
      }
      if (doc.run !== DATA.run) { say(file.name + " holds grades of run " + doc.run + ", not of " + DATA.run); return; }
      if (typeof doc.reviewer !== "string" || !doc.reviewer.trim() || !Array.isArray(doc.grades)) {
        say(file.name + " names no reviewer or has no list of grades"); return;
      }
      if (S && S.reviewer !== doc.reviewer) {
        say(file.name + " holds " + doc.reviewer + "'s grades; you review as " + S.reviewer +
            ": reload the page and start as " + doc.reviewer + " to continue them"); return;
      }
      if (!S) { $("rv-name").value = doc.reviewer; start(doc.reviewer, 0); }
      var attached = 0, changed = 0, outside = 0, invalid = 0, last = -1;
      doc.grades.forEach(function (g) {
        if (!validGrade(g)) { invalid++; return; }
        if (!(g.key in byKey)) { outside++; return; }
        var it = DATA.items[byKey[g.key]];
        if (it.sha !== g.sha256) { changed++; return; }
        S.grades[g.key] = { sha: it.sha, acceptable: g.acceptable, grade: g.grade === undefined ? null : g.grade,
                            note: g.note || "", at: g.at || null };
        last = Math.max(last, byKey[g.key]);
        attached++;
      });
      if (doc.blind === false) S.blind = false;
      if (last + 1 > S.n) { S.n = last + 1; buildView(); }
      save();
      draw();
      var parts = ["Loaded " + attached + " of " + doc.grades.length + " grades from " + file.name];
      if (changed) parts.push(changed + " not attached: the answer's text differs from the one graded (sha256 does not match)");
      if (outside) parts.push(outside + " not attached: the answer is not in this page's queue");
      if (invalid) parts.push(invalid + " not attached: not a valid grade");
      say(parts.join("; ") + ".");
    });
  }

  function open() {
    $("rv-pane").hidden = false;
    document.body.classList.add("rv-reviewing");
    if (!S) {
      try { $("rv-name").value = $("rv-name").value || localStorage.getItem(LAST) || ""; } catch (e) { /* no storage */ }
      var before = $("rv-name").value && stored($("rv-name").value);
      if (before && before.n) $("rv-n").value = before.n;  /* the same reviewer continues with the same answers */
      $("rv-name").focus();
    }
  }
  function close() {
    $("rv-pane").hidden = true;
    document.body.classList.remove("rv-reviewing");
  }
  function go() {
    var name = $("rv-name").value.trim();
    if (!name) { say("Give your name first: it is recorded with each grade."); $("rv-name").focus(); return; }
    say("");
    start(name, parseInt($("rv-n").value, 10) || DATA.n);
  }

  function init(doc) {
    DATA = doc;
    STORE = "harness-review:" + DATA.run + ":";
    LAST = "harness-review-last:" + DATA.run;
    DATA.items.forEach(function (it, i) { byKey[it.key] = i; });
    for (var k = 1; k <= 10; k++) {
      var b = document.createElement("button");
      b.type = "button";
      b.textContent = String(k);
      b.dataset.grade = String(k);
      b.addEventListener("click", function (e) { change({ grade: Number(e.currentTarget.dataset.grade) }); });
      $("rv-grades").appendChild(b);
    }
    $("rv-open").addEventListener("click", open);
    $("rv-close").addEventListener("click", close);
    $("rv-go").addEventListener("click", go);
    $("rv-name").addEventListener("keydown", function (e) { if (e.key === "Enter") go(); });
    $("rv-yes").addEventListener("click", function () { change({ acceptable: true }); });
    $("rv-no").addEventListener("click", function () { change({ acceptable: false }); });
    $("rv-clear").addEventListener("click", function () { change({ grade: null }); });
    $("rv-prev").addEventListener("click", function () { move(-1); });
    $("rv-next").addEventListener("click", function () { move(1); });
    $("rv-note").addEventListener("input", function (e) { change({ note: e.target.value }); });
    $("rv-export").addEventListener("click", function () { if (S) exportFile(); else say("Start a review first."); });
    $("rv-file").addEventListener("change", function (e) { if (e.target.files.length) loadFile(e.target.files[0]); e.target.value = ""; });
    $("rv-unblind").addEventListener("change", function (e) {
      if (!S) { e.target.checked = false; return; }
      if (e.target.checked) { S.blind = false; save(); }
      draw();
    });

    document.addEventListener("keydown", function (e) {
      if ($("rv-pane").hidden || e.ctrlKey || e.metaKey || e.altKey) return;
      var t = e.target, typing = t && (t.tagName === "TEXTAREA" || (t.tagName === "INPUT" && t.type !== "checkbox"));
      if (typing) { if (e.key === "Escape") t.blur(); return; }
      var key = e.key, handled = true;
      if (key === "?") $("rv-help").hidden = !$("rv-help").hidden;
      else if (key === "q") close();
      else if (key === "l") $("rv-file").click();
      else if (!S) handled = false;
      else if (key === "y") change({ acceptable: true });
      else if (key === "n") change({ acceptable: false });
      else if (key >= "1" && key <= "9" && key.length === 1) change({ grade: Number(key) });
      else if (key === "0") change({ grade: 10 });
      else if (key === "x") change({ grade: null });
      else if (key === "j" || key === "ArrowRight") move(1);
      else if (key === "k" || key === "ArrowLeft") move(-1);
      else if (key === "c") $("rv-note").focus();
      else if (key === "e") exportFile();
      else if (key === "U") { $("rv-unblind").checked = !$("rv-unblind").checked; $("rv-unblind").dispatchEvent(new Event("change")); }
      else handled = false;
      if (handled) e.preventDefault();
    });
    $("rv-open").disabled = false;
  }

  harnessUnpack(document.getElementById("review-data").textContent).then(init, function (e) {
    $("rv-status").appendChild(document.createTextNode(" The review queue could not be read in this browser (" + e + ")."));
  });
})();
