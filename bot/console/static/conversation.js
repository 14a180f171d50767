// An open conversation: new lines appear as they arrive; replies are sent without leaving the page.
(function () {
  "use strict";
  var t = JSON.parse(document.getElementById("words").textContent);
  var box = document.getElementById("transcript");
  var id = box.getAttribute("data-id");
  // A supervisor reading a case they do not hold gave a reason; the API asks for it on every read.
  var reason = box.getAttribute("data-reason");
  var holds = box.getAttribute("data-holds") === "1";
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
    if (holds && data.status !== "taken") { window.location.href = "/console"; }
  }

  function refresh() {
    var url = "/console/api/escalations/" + id + "/messages";
    if (reason) { url += "?reason=" + encodeURIComponent(reason); }
    fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) {
        // The case ended under the holder (closed elsewhere, or the person deleted their data): back to the queue.
        if (holds && (r.status === 403 || r.status === 404)) { window.location.href = "/console"; }
        if (!r.ok) { throw new Error(r.status); }
        return r.json();
      })
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
  var events = window.consoleEvents || new EventSource("/console/events");
  events.addEventListener("change", refresh);
})();
