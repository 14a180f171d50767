// An open conversation: new lines appear as they arrive; replies are sent without leaving the page.
(function () {
  "use strict";
  var t = JSON.parse(document.getElementById("words").textContent);
  var box = document.getElementById("transcript");
  var id = box.getAttribute("data-id");
  var names = { "in": t.person, "out": t.bot, "staff": t.staff, "note": t.note };

  function render(data) {
    box.textContent = "";
    data.lines.forEach(function (line) {
      var div = document.createElement("div");
      div.className = "line " + line.who;
      var who = document.createElement("span");
      who.className = "who";
      who.textContent = names[line.who] || line.who;
      div.appendChild(who);
      div.appendChild(document.createTextNode(" " + line.text));
      box.appendChild(div);
    });
    box.scrollTop = box.scrollHeight;
    if (data.status !== "taken") { window.location.href = "/console"; }
  }

  function refresh() {
    fetch("/console/api/escalations/" + id + "/messages", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(render).catch(function () {});
  }

  var form = document.getElementById("reply-form");
  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var data = new FormData(form);
      fetch(form.action, { method: "POST", body: new URLSearchParams(data), credentials: "same-origin",
                           headers: { "Accept": "application/json" } })
        .then(function () { document.getElementById("reply-text").value = ""; refresh(); });
    });
  }
  box.scrollTop = box.scrollHeight;
  var events = new EventSource("/console/events");
  events.addEventListener("change", refresh);
})();
