// /changes/?since=YYYY-MM-DD: show only the changes made on or after that day.
(function () {
  "use strict";
  var since = new URLSearchParams(location.search).get("since") || "";
  if (!/^\d{4}-\d{2}-\d{2}$/.test(since)) return;
  var items = document.querySelectorAll(".changes li[data-changed]");
  var shown = 0;
  items.forEach(function (li) {
    var keep = li.getAttribute("data-changed") >= since;
    li.hidden = !keep;
    if (keep) shown += 1;
  });
  var note = document.getElementById("changes-since");
  note.textContent = shown + (shown === 1 ? " change" : " changes") + " since " + since + ".";
  note.hidden = false;
})();
