// Saved replies: a tap inserts the text at the cursor; typing a shortcut ("/so") then a space does the
// same. Nothing is sent: the counsellor edits the text and presses Send.
(function () {
  "use strict";
  var data = document.getElementById("saved-texts");
  var box = document.getElementById("reply-text");
  if (!data || !box) { return; }
  var saved = JSON.parse(data.textContent);
  var byShortcut = {};
  var byId = {};
  saved.forEach(function (r) { byShortcut[r.shortcut] = r; byId[r.id] = r; });

  function insert(text, from, to) {
    var before = box.value.slice(0, from);
    var after = box.value.slice(to);
    var gap = before && !/\s$/.test(before) ? "\n" : "";
    box.value = before + gap + text + after;
    var cursor = (before + gap + text).length;
    box.focus();
    box.setSelectionRange(cursor, cursor);
  }

  document.querySelectorAll("button.saved-reply").forEach(function (button) {
    button.addEventListener("click", function () {
      var reply = byId[button.getAttribute("data-id")];
      if (reply) { insert(reply.text, box.selectionStart, box.selectionEnd); }
    });
  });

  box.addEventListener("input", function () {
    var end = box.selectionStart;
    var typed = box.value.slice(0, end).match(/(^|\s)(\/[a-z0-9]+)\s$/);
    if (!typed) { return; }
    var reply = byShortcut[typed[2]];
    if (reply) { insert(reply.text, end - typed[2].length - 1, end); }
  });
})();
