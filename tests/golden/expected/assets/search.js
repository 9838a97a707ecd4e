/* briefing: the search page and the filters over document lists.
   Vanilla JavaScript, no dependencies, no request off the site. The index
   (search/index.json, written by the build; format in generator/search.py) is
   fetched only when a search or an actor/place filter needs it. */
(function () {
  "use strict";

  var APOSTROPHES = /['’‘ʼʻ`´]/g;
  var PAGE = 50; // results shown at once
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

  // The same folding as generator/search.py: lower case, no accents, no apostrophes.
  function fold(text) {
    return text.toLowerCase().normalize("NFKD").replace(/\p{M}/gu, "").replace(APOSTROPHES, "");
  }
  function words(text) {
    return fold(text).match(/[\p{L}\p{N}]+/gu) || [];
  }
  function padded(list) {
    return " " + list.join(" ") + " ";
  }

  var loading = null;
  function loadIndex(url) {
    if (!loading) {
      var get = function (address) {
        return fetch(address).then(function (response) {
          if (!response.ok) throw new Error("search index: HTTP " + response.status);
          return response.json();
        });
      };
      // Body words live in small files of shard_size documents each (search/words-N.json),
      // so that an edit to one body rewrites one of them, not the whole index.
      loading = get(url).then(function (raw) {
        var files = [];
        for (var i = 0; i < (raw.shards || 0); i++) files.push(get(url.replace(/index\.json$/, "words-" + i + ".json")));
        return Promise.all(files).then(function (shards) {
          shards.forEach(function (words, i) {
            words.forEach(function (w, j) { raw.docs[i * raw.shard_size + j][6] = w; });
          });
          return raw;
        });
      }).then(prepare);
      loading.catch(function () { loading = null; }); // let a later attempt retry
    }
    return loading;
  }

  function prepare(raw) {
    var entities = raw.entities.map(function (e) {
      return { kind: e[0], slug: e[1], title: e[2], aliases: e[3], type: e[4], path: e[5], count: e[6],
               names: padded(words([e[2]].concat(e[3]).join(" "))) };
    });
    var bySlug = {};
    entities.forEach(function (e, i) { bySlug[e.kind + "/" + e.slug] = i; });
    var docs = raw.docs.map(function (d) {
      return { kind: d[0], path: d[1], title: d[2], date: d[3], summary: d[4], tags: d[5],
               t: padded(words(d[2])), s: padded(words(d[4])), w: " " + d[6] + " ",
               n: padded(d[5].map(function (i) { return entities[i].names.trim(); })) };
    });
    var byPath = {};
    docs.forEach(function (d) { byPath[d.path] = d; });
    return { stop: new Set(raw.stop), entities: entities, docs: docs, bySlug: bySlug, byPath: byPath };
  }

  function queryTerms(query, stop) {
    var all = words(query);
    var kept = all.filter(function (w) { return !stop.has(w); });
    return Array.from(new Set(kept.length ? kept : all));
  }

  // A whole word scores `exact`, the start of a word `prefix`.
  function fieldScore(hay, term, exact, prefix) {
    if (hay.indexOf(" " + term + " ") >= 0) return exact;
    return hay.indexOf(" " + term) >= 0 ? prefix : 0;
  }

  function scoreDoc(doc, terms) {
    var total = 0;
    for (var i = 0; i < terms.length; i++) {
      var term = terms[i];
      var score = fieldScore(doc.t, term, 10, 6) + fieldScore(doc.n, term, 8, 4) +
                  fieldScore(doc.s, term, 4, 2) + fieldScore(doc.w, term, 2, 1);
      if (!score) return 0;
      total += score;
    }
    return total;
  }

  function scoreEntity(entity, terms) {
    var total = 0;
    for (var i = 0; i < terms.length; i++) {
      var score = fieldScore(entity.names, terms[i], 10, 5);
      if (!score) return 0;
      total += score;
    }
    return total;
  }

  function readFilters(form, index) {
    function value(name) { var field = form.elements[name]; return field ? field.value : ""; }
    function entity(kind) {
      var slug = value(kind);
      if (!slug) return null;
      var found = index ? index.bySlug[kind + "/" + slug] : undefined;
      return found === undefined ? -1 : found;
    }
    return { kind: value("kind"), from: value("from"), to: value("to"), actor: entity("actor"), place: entity("place") };
  }

  function passes(doc, f) {
    if (f.kind && doc.kind !== f.kind) return false;
    if (f.from && doc.date < f.from) return false;
    if (f.to && doc.date > f.to) return false;
    if (f.actor !== null && doc.tags.indexOf(f.actor) < 0) return false;
    if (f.place !== null && doc.tags.indexOf(f.place) < 0) return false;
    return true;
  }

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

  // ------------------------------------------------------------------ the search page

  function searchPage(form) {
    var base = form.getAttribute("data-base");
    var status = document.getElementById("search-status");
    var entityBox = document.getElementById("search-entities");
    var docBox = document.getElementById("search-docs");
    var more = document.getElementById("search-more");
    var names = ["q", "kind", "actor", "place", "from", "to"];
    var shown = PAGE;
    var lastDocs = [];

    var params = new URLSearchParams(window.location.search);
    names.forEach(function (name) {
      if (params.has(name) && form.elements[name]) form.elements[name].value = params.get(name);
    });

    function syncAddress() {
      var out = new URLSearchParams();
      names.forEach(function (name) {
        var field = form.elements[name];
        if (field && field.value) out.set(name, field.value);
      });
      var query = out.toString();
      window.history.replaceState(null, "", window.location.pathname + (query ? "?" + query : ""));
    }

    function drawDocs() {
      var list = docBox.querySelector("ol");
      list.textContent = "";
      lastDocs.slice(0, shown).forEach(function (doc) {
        var li = el("li", "doc-item");
        var meta = el("div", "meta");
        var time = el("time", "", shortDate(doc.date));
        time.setAttribute("datetime", doc.date);
        meta.append(time, " ", el("span", "kind kind-" + doc.kind, doc.kind === "note" ? "Analyst note" : "Article"));
        var link = el("a", "doc-title", doc.title);
        link.href = base + doc.path;
        li.append(meta, link);
        if (doc.summary) li.append(el("p", "summary", doc.summary));
        list.append(li);
      });
      docBox.hidden = lastDocs.length === 0;
      more.hidden = lastDocs.length <= shown;
    }

    function drawEntities(found) {
      var list = entityBox.querySelector("ul");
      list.textContent = "";
      found.forEach(function (e) {
        var li = el("li");
        var link = el("a", "chip chip-" + e.kind, e.title);
        link.href = base + e.path;
        li.append(link, " ", el("span", "hint",
          [e.kind === "actor" ? "Actor" : "Place", e.type, e.aliases.length ? "also " + e.aliases.join(", ") : "",
           plural(e.count, "document")].filter(Boolean).join(" · ")));
        list.append(li);
      });
      entityBox.hidden = found.length === 0;
    }

    function run(index) {
      var query = form.elements.q.value;
      var terms = queryTerms(query, index.stop);
      var f = readFilters(form, index);
      var filtered = f.kind || f.from || f.to || f.actor !== null || f.place !== null;
      if (!terms.length && !filtered) {
        lastDocs = [];
        drawDocs();
        drawEntities([]);
        status.textContent = "Type a word or a name, or choose a filter.";
        return;
      }
      var hits = [];
      index.docs.forEach(function (doc, i) {
        if (!passes(doc, f)) return;
        var score = terms.length ? scoreDoc(doc, terms) : 1;
        if (score) hits.push({ doc: doc, score: score, order: i });
      });
      hits.sort(function (a, b) { return b.score - a.score || a.order - b.order; });
      lastDocs = hits.map(function (h) { return h.doc; });
      var entities = [];
      if (terms.length) {
        index.entities.forEach(function (e, i) {
          var score = scoreEntity(e, terms);
          if (score) entities.push({ e: e, score: score, order: i });
        });
        entities.sort(function (a, b) { return b.score - a.score || b.e.count - a.e.count || a.order - b.order; });
      }
      drawEntities(entities.slice(0, 10).map(function (x) { return x.e; }));
      drawDocs();
      var count = lastDocs.length + entities.length;
      var subject = plural(lastDocs.length, "document") +
        (entities.length ? " and " + entities.length + (entities.length === 1 ? " actor or place" : " actors or places") : "");
      var object = terms.length ? "“" + query.trim() + "”" + (filtered ? " with these filters" : "") : "these filters";
      status.textContent = (count ? subject : "Nothing") + (count > 1 ? " match " : " matches ") + object + ".";
    }

    var lastState = null;
    function update() {
      // `change` follows `input` when the box loses focus: redrawing then would swap the
      // links under a click, so the same question is not answered twice.
      var state = names.map(function (name) { return form.elements[name] ? form.elements[name].value : ""; }).join("\u0000");
      if (state === lastState) return;
      lastState = state;
      shown = PAGE;
      syncAddress();
      loadIndex(form.getAttribute("data-index")).then(run, function () {
        lastState = null;
        status.textContent = "The search index could not be loaded; try reloading the page.";
      });
    }

    form.addEventListener("input", update);
    form.addEventListener("change", update);
    form.addEventListener("submit", function (event) { event.preventDefault(); update(); });
    more.addEventListener("click", function () { shown += PAGE; drawDocs(); });
    if (names.some(function (name) { return params.get(name); })) {
      update();
    } else {
      status.textContent = "Type a word or a name, or choose a filter.";
      form.elements.q.addEventListener("focus", function () { loadIndex(form.getAttribute("data-index")).catch(function () {}); }, { once: true });
    }
  }

  // ------------------------------------------------------------------ filters over document lists

  function listFilter(form) {
    var scope = form.parentElement;
    var base = form.getAttribute("data-base");
    var status = form.querySelector("[data-filter-status]");
    var items = Array.prototype.map.call(scope.querySelectorAll("ol.docs > li.doc-item"), function (li) {
      var link = li.querySelector("a.doc-title");
      var time = li.querySelector("time");
      var href = link ? link.getAttribute("href") : "";
      return { li: li, kind: li.querySelector(".kind-note") ? "note" : "article",
               date: time ? time.getAttribute("datetime") : "",
               path: href.indexOf(base) === 0 ? href.slice(base.length) : href };
    });
    form.hidden = false;

    function apply(index) {
      var f = readFilters(form, index);
      var active = f.kind || f.from || f.to || f.actor !== null || f.place !== null;
      var visible = 0;
      items.forEach(function (item) {
        var doc = index ? index.byPath[item.path] : null;
        var ok = passes({ kind: item.kind, date: item.date, tags: doc ? doc.tags : [] },
                        { kind: f.kind, from: f.from, to: f.to, actor: f.actor, place: f.place });
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

    function update() {
      var needsIndex = (form.elements.actor && form.elements.actor.value) || (form.elements.place && form.elements.place.value);
      if (!needsIndex) { apply(null); return; }
      status.textContent = "Loading…";
      loadIndex(form.getAttribute("data-index")).then(apply, function () {
        status.textContent = "The index of tags could not be loaded; try reloading the page.";
      });
    }

    form.addEventListener("change", update);
    form.addEventListener("input", update);
    form.addEventListener("submit", function (event) { event.preventDefault(); update(); });
  }

  var page = document.getElementById("search-form");
  if (page) searchPage(page);
  Array.prototype.forEach.call(document.querySelectorAll("form[data-list-filter]"), listFilter);
})();
