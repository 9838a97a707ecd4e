/* briefing: the search page and the filters over document lists.
   Vanilla JavaScript, no dependencies, no request off the site. The index is a set of small
   files written by the build (format in generator/pages/search.py): search/index.json, then
   only the term shards, document chunks and tag files a query needs. Text from the index is
   put in the page as text nodes, never as HTML. */
(function () {
  "use strict";

  var APOSTROPHES = /['’‘ʼʻ`´]/g;
  var PAGE = 20; // results shown at once
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  // A document's score for a query word: the weight of the field it is in (title, names of its
  // actors and places, summary, body) times how the word matched: whole, as a prefix, or near.
  var FIELD_WEIGHT = [10, 8, 4, 2];
  var EXACT = 1, PREFIX = 0.15, NEAR = [1, 0.12, 0.08]; // NEAR[distance]
  var EXPANSIONS = 8; // prefixes and near words tried per query word, at most
  var SHARD_KEY = 3; // letters of a term that pick its shard (search.py: SHARD_KEY)
  var DIGITS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_";
  var VALUE = {};
  for (var d = 0; d < DIGITS.length; d++) VALUE[DIGITS.charCodeAt(d)] = d;
  var FILTERS = ["kind", "actor", "place", "from", "to"];

  // The same folding as generator/pages/search.py: lower case, no accents, no apostrophes.
  function fold(text) {
    return text.toLowerCase().normalize("NFKD").replace(/\p{M}/gu, "").replace(APOSTROPHES, "");
  }
  function words(text) {
    return fold(text).match(/[\p{L}\p{N}]+/gu) || [];
  }

  // Postings: ascending document numbers as base-32 gaps, or "~" and a bitmap (search.encode).
  function decode(text) {
    var out = [];
    if (!text) return out;
    var i;
    if (text.charAt(0) === "~") {
      for (i = 1; i < text.length; i++) {
        var bits = VALUE[text.charCodeAt(i)];
        for (var b = 0; b < 6; b++) if (bits & (1 << b)) out.push((i - 1) * 6 + b);
      }
      return out;
    }
    var previous = -1, value = 0;
    for (i = 0; i < text.length; i++) {
      var digit = VALUE[text.charCodeAt(i)];
      if (digit < 32) {
        value = value * 32 + digit;
      } else {
        previous += value * 32 + digit - 32 + 1;
        out.push(previous);
        value = 0;
      }
    }
    return out;
  }

  // FNV-1a of the code points of the first SHARD_KEY letters (search.shard_of).
  function shardOf(term, shards) {
    var h = 0x811c9dc5;
    var letters = Array.from(term).slice(0, SHARD_KEY);
    for (var i = 0; i < letters.length; i++) {
      h = Math.imul(h ^ letters[i].codePointAt(0), 0x01000193) >>> 0;
    }
    return h % shards;
  }

  // Edit distance (adjacent swaps count one), or limit + 1 when it is more than limit.
  function distance(a, b, limit) {
    if (Math.abs(a.length - b.length) > limit) return limit + 1;
    var before = null, row = [], i, j;
    for (j = 0; j <= b.length; j++) row.push(j);
    for (i = 1; i <= a.length; i++) {
      var next = [i], best = i;
      for (j = 1; j <= b.length; j++) {
        var cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
        var v = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + cost);
        if (before && i > 1 && j > 1 && a.charCodeAt(i - 1) === b.charCodeAt(j - 2) && a.charCodeAt(i - 2) === b.charCodeAt(j - 1)) {
          v = Math.min(v, before[j - 2] + 1);
        }
        next.push(v);
        if (v < best) best = v;
      }
      if (best > limit) return limit + 1;
      before = row;
      row = next;
    }
    return row[b.length] <= limit ? row[b.length] : limit + 1;
  }
  function tolerance(term) {
    var length = Array.from(term).length;
    return length >= 8 ? 2 : length >= 4 ? 1 : 0;
  }

  // ------------------------------------------------------------------ the index

  function Index(url, raw) {
    this.url = url;
    this.n = raw.docs;
    this.shards = raw.shards;
    this.chunk = raw.chunk;
    this.tagBucket = raw.tag_bucket;
    this.stop = new Set(raw.stop);
    this.files = {};
    var names = new Set();
    this.entities = raw.entities.map(function (e, i) { // [kind, slug, name, documents, type, aliases]
      var aliases = e[5] || [];
      var own = Array.from(new Set(words([e[2]].concat(aliases).join(" "))));
      own.forEach(function (w) { names.add(w); });
      return { kind: e[0], slug: e[1], title: e[2], count: e[3], type: e[4] || "", aliases: aliases,
               path: raw.sections[e[0]] + e[1] + "/", words: own, order: i };
    });
    this.bySlug = {};
    var self = this;
    this.entities.forEach(function (e, i) { self.bySlug[e.kind + "/" + e.slug] = i; });
    // the words typos are forgiven in, and short words expanded to: names, aliases, titles
    raw.words.forEach(function (w) { names.add(w); });
    this.vocabulary = Array.from(names).sort();
    this.notes = new Uint8Array(this.n);
    decode(raw.notes).forEach(function (i) { self.notes[i] = 1; });
    this.days = raw.days; // [date, count], oldest first, as the documents are numbered
  }

  Index.prototype.file = function (name) {
    var files = this.files;
    if (!files[name]) {
      var address = this.url.replace(/index\.json$/, name);
      files[name] = fetch(address).then(function (response) {
        if (!response.ok) throw new Error("search index: HTTP " + response.status);
        return response.json();
      });
      files[name].catch(function () { delete files[name]; }); // let a later attempt retry
    }
    return files[name];
  };
  Index.prototype.shard = function (b) { return this.file("terms-" + b + ".json"); };
  Index.prototype.docs = function (numbers) {
    var self = this, chunks = {};
    numbers.forEach(function (i) { chunks[Math.floor(i / self.chunk)] = true; });
    var keys = Object.keys(chunks);
    return Promise.all(keys.map(function (k) { return self.file("docs-" + k + ".json"); })).then(function (files) {
      var rows = {};
      keys.forEach(function (k, j) {
        files[j].forEach(function (row, r) { rows[Number(k) * self.chunk + r] = row; });
      });
      return numbers.map(function (i) {
        var row = rows[i];
        return { n: i, kind: row[0], path: row[1], title: row[2], date: row[3], summary: row[4], lead: row[5] };
      });
    });
  };
  // The documents tagged with the entity at this position of index.json, as a set of numbers.
  Index.prototype.tagged = function (entity) {
    var bucket = Math.floor(entity / this.tagBucket);
    var self = this;
    return this.file("tags-" + bucket + ".json").then(function (rows) {
      var mark = new Uint8Array(self.n);
      decode(rows[entity % self.tagBucket]).forEach(function (i) { mark[i] = 1; });
      return mark;
    });
  };
  // Documents dated from..to (ISO days, either may be empty) are those numbered first..last.
  Index.prototype.dateRange = function (from, to) {
    var first = this.n, last = -1, at = 0;
    for (var i = 0; i < this.days.length; i++) {
      var day = this.days[i][0], count = this.days[i][1];
      if ((!to || day <= to) && (!from || day >= from)) {
        if (first > at) first = at;
        last = at + count - 1;
      }
      at += count;
    }
    return [first, last];
  };

  var opening = {};
  function openIndex(url) {
    if (!opening[url]) {
      opening[url] = fetch(url).then(function (response) {
        if (!response.ok) throw new Error("search index: HTTP " + response.status);
        return response.json();
      }).then(function (raw) { return new Index(url, raw); });
      opening[url].catch(function () { delete opening[url]; });
    }
    return opening[url];
  }

  // ------------------------------------------------------------------ a query

  function queryTerms(query, stop) {
    var all = words(query);
    var kept = all.filter(function (w) { return !stop.has(w); });
    return Array.from(new Set(kept.length ? kept : all));
  }

  // Words of a sorted list that start with `term` (not `term` itself), shortest first.
  function withPrefix(sorted, term, limit) {
    var lo = 0, hi = sorted.length;
    while (lo < hi) { var mid = (lo + hi) >> 1; if (sorted[mid] < term) lo = mid + 1; else hi = mid; }
    var found = [];
    for (var i = lo; i < sorted.length && sorted[i].lastIndexOf(term, 0) === 0; i++) {
      if (sorted[i] !== term) found.push(sorted[i]);
    }
    found.sort(function (a, b) { return a.length - b.length || (a < b ? -1 : 1); });
    return found.slice(0, limit);
  }

  function nearWords(list, term, limit) {
    var k = tolerance(term);
    if (!k) return [];
    var found = [];
    list.forEach(function (w) {
      if (w === term) return;
      var d = distance(term, w, k);
      if (d <= k) found.push({ word: w, d: d });
    });
    found.sort(function (a, b) { return a.d - b.d || a.word.length - b.word.length || (a.word < b.word ? -1 : 1); });
    return found.slice(0, limit);
  }

  // The words a query word stands for, each with its weight: itself, then the names and title
  // words it starts or nearly spells; the body words of its own shard are added once it is here.
  function variantsOf(index, term) {
    var out = {};
    out[term] = EXACT;
    if (Array.from(term).length >= 2) {
      withPrefix(index.vocabulary, term, EXPANSIONS).forEach(function (w) { out[w] = PREFIX; });
    }
    nearWords(index.vocabulary, term, EXPANSIONS).forEach(function (x) {
      if (!(x.word in out)) out[x.word] = NEAR[x.d];
    });
    return out;
  }

  function addShardVariants(out, term, table) {
    var keys = Object.keys(table).sort();
    if (Array.from(term).length >= SHARD_KEY) {
      withPrefix(keys, term, EXPANSIONS).forEach(function (w) { if (!(w in out)) out[w] = PREFIX; });
    }
    nearWords(keys, term, EXPANSIONS).forEach(function (x) { if (!(x.word in out)) out[x.word] = NEAR[x.d]; });
  }

  function scoreEntities(index, terms) {
    var found = [];
    index.entities.forEach(function (e) {
      var total = 0, matched = 0;
      for (var t = 0; t < terms.length; t++) {
        var term = terms[t], best = 0, k = tolerance(term);
        for (var w = 0; w < e.words.length; w++) {
          var word = e.words[w], score = 0;
          if (word === term) score = 10;
          else if (word.lastIndexOf(term, 0) === 0) score = 5;
          else if (k && distance(term, word, k) <= k) score = 4 - distance(term, word, k);
          if (score > best) best = score;
        }
        if (!best) return;
        total += best;
        matched += 1;
      }
      // the share of the name the query covers: "Kataib Hezbollah" before "Harakat Hezbollah al-Nujaba"
      found.push({ e: e, score: total + 2 * matched / Math.max(e.words.length, 1) });
    });
    found.sort(function (a, b) { return b.score - a.score || b.e.count - a.e.count || a.e.order - b.e.order; });
    return found;
  }

  // Which documents pass the filters: a function of a document's number, or null for all.
  function filterOf(index, f) {
    var tests = [];
    if (f.kind) tests.push(function (i) { return (index.notes[i] === 1) === (f.kind === "note"); });
    if (f.from || f.to) {
      var range = index.dateRange(f.from, f.to);
      tests.push(function (i) { return i >= range[0] && i <= range[1]; });
    }
    var pending = [];
    ["actor", "place"].forEach(function (kind) {
      if (!f[kind]) return;
      var at = index.bySlug[kind + "/" + f[kind]];
      if (at === undefined) { tests.push(function () { return false; }); return; }
      pending.push(index.tagged(at).then(function (mark) { tests.push(function (i) { return mark[i] === 1; }); }));
    });
    return Promise.all(pending).then(function () {
      if (!tests.length) return null;
      return function (i) {
        for (var t = 0; t < tests.length; t++) if (!tests[t](i)) return false;
        return true;
      };
    });
  }

  // The ranked documents (numbers), the entities, and the words that matched (for <mark>).
  function runQuery(index, query, f) {
    var terms = queryTerms(query, index.stop);
    var variants = terms.map(function (t) { return variantsOf(index, t); });
    var shards = {};
    terms.forEach(function (t, i) {
      shards[shardOf(t, index.shards)] = true;
      Object.keys(variants[i]).forEach(function (w) { shards[shardOf(w, index.shards)] = true; });
    });
    var wanted = Object.keys(shards);
    return Promise.all([filterOf(index, f)].concat(wanted.map(function (b) { return index.shard(b); })))
      .then(function (loaded) {
        var passes = loaded[0], tables = {};
        wanted.forEach(function (b, j) { tables[b] = loaded[j + 1].terms; });
        var matched = new Set();
        var total = null;
        terms.forEach(function (term, t) {
          var own = tables[shardOf(term, index.shards)];
          addShardVariants(variants[t], term, own);
          var scores = new Float32Array(index.n);
          Object.keys(variants[t]).forEach(function (word) {
            var entry = tables[shardOf(word, index.shards)][word];
            if (!entry) return;
            matched.add(word);
            var weight = variants[t][word];
            entry.forEach(function (postings, field) {
              var s = FIELD_WEIGHT[field] * weight;
              decode(postings).forEach(function (i) { if (s > scores[i]) scores[i] = s; });
            });
          });
          if (total === null) {
            total = scores;
          } else {
            for (var i = 0; i < index.n; i++) total[i] = scores[i] ? total[i] + scores[i] : 0; // every word must match
          }
        });
        var hits = [];
        for (var i = index.n - 1; i >= 0; i--) { // newest first: documents are numbered oldest first
          var score = total === null ? 1 : total[i];
          if (score && (!passes || passes(i))) hits.push(i);
        }
        if (total !== null) hits.sort(function (a, b) { return total[b] - total[a] || b - a; }); // newer first on ties
        terms.forEach(function (t) { matched.add(t); });
        return { terms: terms, docs: hits, matched: matched, entities: terms.length ? scoreEntities(index, terms) : [] };
      });
  }

  // ------------------------------------------------------------------ drawing

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function shortDate(iso) {
    var parts = iso.split("-");
    return Number(parts[2]) + " " + MONTHS[Number(parts[1]) - 1] + " " + parts[0];
  }

  function plural(n, word) {
    return n + " " + word + (n === 1 ? "" : "s");
  }

  var TOKEN = /[\p{L}\p{N}\p{M}'’‘ʼʻ`´]+/gu;
  function hits(text, matched) {
    var spans = [], m;
    TOKEN.lastIndex = 0;
    while ((m = TOKEN.exec(text)) !== null) {
      if (words(m[0]).some(function (w) { return matched.has(w); })) spans.push([m.index, m.index + m[0].length]);
    }
    return spans;
  }

  // `text` into `parent` as text nodes, the matched words in <mark>.
  function highlighted(parent, text, matched) {
    var at = 0;
    hits(text, matched).forEach(function (span) {
      if (span[0] > at) parent.append(document.createTextNode(text.slice(at, span[0])));
      parent.append(el("mark", "", text.slice(span[0], span[1])));
      at = span[1];
    });
    if (at < text.length) parent.append(document.createTextNode(text.slice(at)));
    return parent;
  }

  // The summary or the opening of the body, whichever shows a matched word, around the first one.
  function snippet(doc, matched) {
    var texts = [doc.summary, doc.lead].filter(Boolean);
    var text = texts.find(function (t) { return hits(t, matched).length; });
    if (!text) return texts[0] || "";
    var first = hits(text, matched)[0][0];
    if (text.length <= 220 || first < 80) return text;
    var start = text.lastIndexOf(" ", first - 60);
    return "…" + text.slice(start < 0 ? 0 : start + 1);
  }

  // ------------------------------------------------------------------ the address

  function readAddress(form, names) {
    var params = new URLSearchParams(window.location.search);
    names.forEach(function (name) {
      var field = form.elements[name];
      if (params.has(name) && field) field.value = params.get(name);
    });
    return names.some(function (name) { return params.get(name) && form.elements[name]; });
  }

  // The query and filters in the address, so that a view can be shared and bookmarked.
  function writeAddress(form, names) {
    var out = new URLSearchParams(window.location.search);
    names.forEach(function (name) {
      var field = form.elements[name];
      if (field && field.value) out.set(name, field.value);
      else out.delete(name);
    });
    var query = out.toString();
    window.history.replaceState(null, "", window.location.pathname + (query ? "?" + query : "") + window.location.hash);
  }

  function readFilters(form) {
    function value(name) { var field = form.elements[name]; return field ? field.value : ""; }
    return { kind: value("kind"), from: value("from"), to: value("to"), actor: value("actor"), place: value("place") };
  }

  // ------------------------------------------------------------------ the search page

  function searchPage(form) {
    var base = form.getAttribute("data-base");
    var status = document.getElementById("search-status");
    var entityBox = document.getElementById("search-entities");
    var docBox = document.getElementById("search-docs");
    var more = document.getElementById("search-more");
    var names = ["q"].concat(FILTERS);
    var found = null; // the last answer drawn
    var shown = PAGE;
    var asked = 0; // answers to older questions are dropped

    function drawDocs(docs, matched) {
      var list = docBox.querySelector("ol");
      list.textContent = "";
      docs.forEach(function (doc) {
        var li = el("li", "doc-item");
        var meta = el("div", "meta");
        var time = el("time", "", shortDate(doc.date));
        time.setAttribute("datetime", doc.date);
        meta.append(time, " ", el("span", "kind kind-" + doc.kind, doc.kind === "note" ? "Analyst note" : "Article"));
        var link = highlighted(el("a", "doc-title"), doc.title, matched);
        link.href = base + doc.path;
        li.append(meta, link);
        var text = snippet(doc, matched);
        if (text) li.append(highlighted(el("p", "summary snippet"), text, matched));
        list.append(li);
      });
    }

    function drawEntities(list, matched) {
      var box = entityBox.querySelector("ul");
      box.textContent = "";
      list.forEach(function (e) {
        var li = el("li");
        var link = highlighted(el("a", "chip chip-" + e.kind), e.title, matched);
        link.href = base + e.path;
        li.append(link, " ", el("span", "hint",
          [e.kind === "actor" ? "Actor" : "Place", e.type, e.aliases.length ? "also " + e.aliases.join(", ") : "",
           plural(e.count, "document")].filter(Boolean).join(" · ")));
        box.append(li);
      });
      entityBox.hidden = list.length === 0;
    }

    function showPage(index, answer, ticket) {
      var numbers = answer.docs.slice(0, shown);
      return index.docs(numbers).then(function (docs) {
        if (ticket !== asked) return;
        drawDocs(docs, answer.matched);
        docBox.hidden = docs.length === 0;
        more.hidden = answer.docs.length <= shown;
      });
    }

    function describe(answer, query, filtered) {
      var entities = answer.entities.length, docs = answer.docs.length, count = docs + entities;
      var subject = plural(docs, "document") +
        (entities ? " and " + entities + (entities === 1 ? " actor or place" : " actors or places") : "");
      var object = answer.terms.length ? "“" + query.trim() + "”" + (filtered ? " with these filters" : "") : "these filters";
      return (count ? subject : "Nothing") + (count > 1 ? " match " : " matches ") + object + ".";
    }

    function run(index, ticket) {
      var query = form.elements.q.value;
      var f = readFilters(form);
      var filtered = FILTERS.some(function (name) { return f[name]; });
      if (!queryTerms(query, index.stop).length && !filtered) {
        found = null;
        docBox.hidden = true;
        more.hidden = true;
        drawEntities([], new Set());
        status.textContent = "Type a word or a name, or choose a filter.";
        return null;
      }
      return runQuery(index, query, f).then(function (answer) {
        if (ticket !== asked) return null;
        found = answer;
        drawEntities(answer.entities.slice(0, 10).map(function (x) { return x.e; }), answer.matched);
        status.textContent = describe(answer, query, filtered);
        return showPage(index, answer, ticket);
      });
    }

    var lastState = null;
    function update() {
      // `change` follows `input` when the box loses focus: redrawing then would swap the
      // links under a click, so the same question is not answered twice.
      var state = names.map(function (name) { return form.elements[name] ? form.elements[name].value : ""; }).join("\u0000");
      if (state === lastState) return;
      lastState = state;
      shown = PAGE;
      writeAddress(form, names);
      var ticket = ++asked;
      openIndex(form.getAttribute("data-index")).then(function (index) { return run(index, ticket); })
        .catch(function () {
          if (ticket !== asked) return;
          lastState = null;
          status.textContent = "The search index could not be loaded; try reloading the page.";
        });
    }

    form.addEventListener("input", update);
    form.addEventListener("change", update);
    form.addEventListener("submit", function (event) { event.preventDefault(); update(); });
    more.addEventListener("click", function () {
      if (!found) return;
      shown += PAGE;
      var answer = found, ticket = asked;
      openIndex(form.getAttribute("data-index")).then(function (index) { return showPage(index, answer, ticket); });
    });
    if (readAddress(form, names)) {
      update();
    } else {
      status.textContent = "Type a word or a name, or choose a filter.";
      form.elements.q.addEventListener("focus", function () { openIndex(form.getAttribute("data-index")).catch(function () {}); }, { once: true });
    }
  }

  // ------------------------------------------------------------------ filters over document lists

  function listFilter(form) {
    var scope = form.parentElement;
    var status = form.querySelector("[data-filter-status]");
    var items = Array.prototype.map.call(scope.querySelectorAll("ol.docs > li.doc-item"), function (li) {
      var time = li.querySelector("time");
      return { li: li, kind: li.querySelector(".kind-note") ? "note" : "article",
               date: time ? time.getAttribute("datetime") : "" };
    });
    form.hidden = false;
    // each item's number in the index (data-numbers: a timeline page, which may list only some
    // documents); without them the items are every document, newest first (the index numbers them oldest first)
    var numbers = (form.getAttribute("data-numbers") || "").split(" ").filter(Boolean).map(Number);
    function numberOf(i) { return numbers.length === items.length ? numbers[i] : items.length - 1 - i; }

    // marks: for the actor and place filters, whether each document is tagged, by number
    function apply(marks) {
      var f = readFilters(form);
      var active = FILTERS.some(function (name) { return f[name]; });
      var visible = 0;
      items.forEach(function (item, i) {
        var ok = (!f.kind || item.kind === f.kind) && (!f.from || item.date >= f.from) && (!f.to || item.date <= f.to) &&
                 marks.every(function (mark) { return mark[numberOf(i)] === 1; });
        item.li.hidden = !ok;
        if (ok) visible += 1;
      });
      Array.prototype.forEach.call(scope.querySelectorAll("ol.docs"), function (list) {
        var any = list.querySelector("li.doc-item:not([hidden])") !== null;
        list.hidden = !any;
        var label = list.previousElementSibling;
        if (label && label.classList.contains("month-label")) label.hidden = !any;
        var month = list.closest("section.month");
        if (month) month.hidden = !any;
      });
      status.textContent = active ? "Showing " + visible + " of " + plural(items.length, "document") + "." : "";
    }

    var asked = 0;
    function update() {
      writeAddress(form, FILTERS);
      var f = readFilters(form), ticket = ++asked;
      if (!f.actor && !f.place) { apply([]); return; }
      status.textContent = "Loading…";
      openIndex(form.getAttribute("data-index")).then(function (index) {
        // a page of a newer build than the index (or the reverse) may number beyond it
        if (numbers.length ? Math.max.apply(null, numbers) >= index.n : items.length !== index.n)
          throw new Error("the list is not of this index");
        return Promise.all(["actor", "place"].filter(function (k) { return f[k]; }).map(function (kind) {
          var at = index.bySlug[kind + "/" + f[kind]];
          return at === undefined ? new Uint8Array(index.n) : index.tagged(at);
        }));
      }).then(function (marks) { if (ticket === asked) apply(marks); }, function () {
        if (ticket === asked) status.textContent = "The index of tags could not be loaded; try reloading the page.";
      });
    }

    form.addEventListener("change", update);
    form.addEventListener("input", update);
    form.addEventListener("submit", function (event) { event.preventDefault(); update(); });
    if (readAddress(form, FILTERS)) update();
  }

  var page = document.getElementById("search-form");
  if (page) searchPage(page);
  Array.prototype.forEach.call(document.querySelectorAll("form[data-list-filter]"), listFilter);
})();
