/* briefing: link previews. Hovering (after a short delay) or keyboard-focusing a link to an
   article, note, actor or place page of this site shows a card with that page's title, its
   kind and date line and its summary. The card is read from the page itself (a static file on
   the same origin, fetched once and kept in a Map), parsed with DOMParser (which runs no script
   and loads nothing) and written as text nodes, never as HTML. It is a role="tooltip" named by
   the link's aria-describedby while shown; it never takes focus, Escape dismisses it, and the
   pointer may move onto it (WCAG 1.4.13). On touch-only screens only keyboard focus opens it. */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || !window.fetch || !window.DOMParser || !window.Map) return;

  var HOVER_DELAY = 300; // ms before a hovered link shows its card
  var LEAVE_DELAY = 120; // ms to move the pointer from the link onto the card
  var SUMMARY_LIMIT = 220; // characters of summary shown
  var MARGIN = 8; // px kept between the card and the viewport's edges
  var GAP = 6; // px between the link and the card
  var ID = "link-preview";
  var base = new URL(script.getAttribute("data-base") || "/", location.href).pathname;
  // A document or profile page: /articles/<slug>/ (not a month archive, /articles/2024-10/).
  var TARGET = new RegExp("^" + base.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") +
    "(articles|notes|actors|places)/(?!\\d{4}-\\d{2}/)[^/]+/(index\\.html)?$");
  var noHover = window.matchMedia && window.matchMedia("(hover: none)").matches;

  var cache = new Map(); // pathname -> Promise of {title, meta, summary} or null
  var card = null; // the tooltip element, made on first use
  var active = null; // the link the card is for (shown or on its way)
  var hovered = false, focused = false; // why it is open
  var dismissed = null; // a link whose card Escape closed, until the pointer or focus leaves it
  var showTimer = 0, hideTimer = 0;

  function text(node) {
    return node ? node.textContent.replace(/\s+/g, " ").trim() : "";
  }

  function shorten(value) {
    if (value.length <= SUMMARY_LIMIT) return value;
    var cut = value.slice(0, SUMMARY_LIMIT - 1);
    var space = cut.lastIndexOf(" ");
    return (space > SUMMARY_LIMIT / 2 ? cut.slice(0, space) : cut).replace(/[ ,;:.-]+$/, "") + "…";
  }

  // The link `node` is in, if it goes to a document or profile page of this site (not this page).
  function previewable(node) {
    var link = node && node.closest ? node.closest("a[href]") : null;
    if (!link || !(link instanceof HTMLAnchorElement) || (card && card.contains(link))) return null;
    if (link.origin !== location.origin || !TARGET.test(link.pathname)) return null;
    if (link.pathname === location.pathname) return null; // an anchor on this page
    return link;
  }

  function preview(path) {
    if (!cache.has(path)) {
      cache.set(path, fetch(path, { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (html === null) return null;
          var doc = new DOMParser().parseFromString(html, "text/html");
          var article = doc.querySelector("main article.document, main article.entity");
          var title = text(article && article.querySelector("h1"));
          if (!title) return null;
          var summary = article.querySelector(".lede") || article.querySelector(".body > p");
          return { title: title, meta: text(article.querySelector(".meta")), summary: shorten(text(summary)) };
        })
        .catch(function () { return null; }));
    }
    return cache.get(path);
  }

  function makeCard() {
    card = document.createElement("div");
    card.id = ID;
    card.className = "link-preview";
    card.setAttribute("role", "tooltip");
    card.hidden = true;
    card.addEventListener("mouseenter", function () { clearTimeout(hideTimer); });
    card.addEventListener("mouseleave", function (event) {
      if (!active || !active.contains(event.relatedTarget)) pointerLeft();
    });
    // inside <main>, so that it is in a landmark
    (document.getElementById("main") || document.body).appendChild(card);
  }

  function line(className, value) {
    var p = document.createElement("p");
    p.className = className;
    p.textContent = value;
    return p;
  }

  function describe(link, on) {
    var ids = (link.getAttribute("aria-describedby") || "").split(/\s+/).filter(function (id) {
      return id && id !== ID;
    });
    if (on) ids.push(ID);
    if (ids.length) link.setAttribute("aria-describedby", ids.join(" "));
    else link.removeAttribute("aria-describedby");
  }

  // Below the link, or above it when there is no room below; always inside the viewport.
  function place(link) {
    var view = document.documentElement;
    var width = view.clientWidth, height = view.clientHeight;
    card.style.maxWidth = Math.max(0, Math.min(352, width - 2 * MARGIN)) + "px";
    card.style.left = "0px";
    card.style.top = "0px";
    var rect = link.getClientRects()[0] || link.getBoundingClientRect();
    var box = card.getBoundingClientRect();
    var left = Math.max(MARGIN, Math.min(rect.left, width - box.width - MARGIN));
    var top = rect.bottom + GAP;
    if (top + box.height > height - MARGIN && rect.top - GAP - box.height >= MARGIN) top = rect.top - GAP - box.height;
    // box is where left: 0; top: 0 put it, whatever its containing block
    card.style.left = left - box.left + "px";
    card.style.top = top - box.top + "px";
  }

  function open(link) {
    preview(link.pathname).then(function (data) {
      if (active !== link || !(hovered || focused) || !data) return;
      if (!card) makeCard();
      card.textContent = "";
      card.appendChild(line("link-preview-title", data.title));
      if (data.meta) card.appendChild(line("link-preview-meta", data.meta));
      if (data.summary) card.appendChild(line("link-preview-summary", data.summary));
      card.style.visibility = "hidden"; // measured before it is seen
      card.hidden = false;
      place(link);
      card.style.visibility = "";
      describe(link, true);
    });
  }

  function hide() {
    clearTimeout(showTimer);
    clearTimeout(hideTimer);
    if (active) describe(active, false);
    if (card) card.hidden = true;
    active = null;
    hovered = focused = false;
  }

  function pointerLeft() {
    hovered = false;
    clearTimeout(showTimer);
    if (!focused) {
      clearTimeout(hideTimer);
      hideTimer = setTimeout(hide, LEAVE_DELAY);
    }
  }

  function keyboardFocus(link) {
    try {
      return link.matches(":focus-visible");
    } catch (e) {
      return true; // no :focus-visible: any focus opens it
    }
  }

  document.addEventListener("mouseover", function (event) {
    var link = noHover ? null : previewable(event.target);
    if (!link || link === dismissed) return;
    clearTimeout(hideTimer);
    if (link === active) {
      hovered = true;
      return;
    }
    if (active) hide(); // another link's card gives way
    clearTimeout(showTimer);
    showTimer = setTimeout(function () {
      active = link;
      hovered = true;
      open(link);
    }, HOVER_DELAY);
  });

  document.addEventListener("mouseout", function (event) {
    var link = previewable(event.target);
    if (!link || link.contains(event.relatedTarget)) return;
    if (link === dismissed) dismissed = null;
    if (link === active && card && card.contains(event.relatedTarget)) return; // onto its card: it stays
    pointerLeft();
  });

  document.addEventListener("focusin", function (event) {
    var link = previewable(event.target);
    if (!link || link === dismissed || !keyboardFocus(link)) return;
    if (link !== active) hide();
    active = link;
    focused = true;
    open(link);
  });

  document.addEventListener("focusout", function (event) {
    var link = previewable(event.target);
    if (!link) return;
    if (link === dismissed) dismissed = null;
    if (link === active) {
      focused = false;
      if (!hovered) hide();
    }
  });

  document.addEventListener("keydown", function (event) {
    if ((event.key === "Escape" || event.key === "Esc") && active) {
      dismissed = active;
      hide();
    }
  });

  window.addEventListener("resize", function () { if (active) hide(); });
})();
