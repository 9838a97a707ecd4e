// /brief/?since=YYYY-MM-DD: show only the notes and reporting new or updated on or after that day
// (by `updated`, else `date`, as /changes/ does), say so, and offer the whole brief again.
(function () {
  "use strict";
  var since = new URLSearchParams(location.search).get("since") || "";
  if (!/^\d{4}-\d{2}-\d{2}$/.test(since)) return;
  var items = document.querySelectorAll(".brief [data-changed]");
  var shown = 0;
  items.forEach(function (item) {
    var keep = item.getAttribute("data-changed") >= since;
    item.hidden = !keep;
    if (keep) shown += 1;
  });
  document.querySelectorAll(".brief [data-since-empty]").forEach(function (empty) {
    empty.hidden = empty.parentNode.querySelector("[data-changed]:not([hidden])") !== null;
  });
  var note = document.getElementById("brief-since");
  note.querySelector("[data-since-text]").textContent = "Showing " + shown + " of " + items.length +
    (items.length === 1 ? " item" : " items") + ": what is new or updated since " + since + ".";
  note.hidden = false;
})();
