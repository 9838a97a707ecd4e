/* briefing: the reader's choice of colours, auto (the system's setting), light or dark.
   Loaded in <head> without `defer` so a stored choice applies before the first paint; the
   masthead's button (hidden in the HTML, so it never shows without JavaScript) cycles it.
   The choice is kept in localStorage; style.css reads it from <html data-theme>. */
(function () {
  "use strict";

  var KEY = "briefing-theme";
  var MODES = ["auto", "light", "dark"];
  var root = document.documentElement;

  function stored() {
    try {
      var mode = window.localStorage.getItem(KEY);
      return MODES.indexOf(mode) > 0 ? mode : "auto";
    } catch (e) {
      return "auto"; // storage refused (privacy settings): the system's setting
    }
  }

  function apply(mode) {
    if (mode === "auto") root.removeAttribute("data-theme");
    else root.setAttribute("data-theme", mode);
  }

  function keep(mode) {
    try {
      if (mode === "auto") window.localStorage.removeItem(KEY);
      else window.localStorage.setItem(KEY, mode);
    } catch (e) { /* not kept: it still applies to this page */ }
  }

  apply(stored());

  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("theme-toggle");
    if (!button) return;
    function show(mode) {
      var next = MODES[(MODES.indexOf(mode) + 1) % MODES.length];
      button.textContent = "Theme: " + mode;
      button.setAttribute("data-mode", mode);
      button.title = "Colours: " + (mode === "auto" ? "as the system is set" : mode) + ". Switch to " + next + ".";
    }
    show(stored());
    button.addEventListener("click", function () {
      var mode = MODES[(MODES.indexOf(button.getAttribute("data-mode")) + 1) % MODES.length];
      apply(mode);
      keep(mode);
      show(mode);
    });
    button.hidden = false;
  });
})();
