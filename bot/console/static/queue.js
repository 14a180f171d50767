// The live queue: refreshed whenever the server says something changed (server-sent events).
(function () {
  "use strict";
  var t = JSON.parse(document.getElementById("words").textContent);
  var table = document.getElementById("queue");
  var body = table.querySelector("tbody");
  var token = table.getAttribute("data-token");

  function waited(seconds) {
    return seconds < 60 ? t.seconds.replace("{n}", seconds) : t.minutes.replace("{n}", Math.floor(seconds / 60));
  }

  function cell(row, text, className) {
    var td = document.createElement("td");
    if (className) { td.className = className; }
    td.textContent = text;
    row.appendChild(td);
    return td;
  }

  function render(items) {
    body.textContent = "";
    document.getElementById("empty").hidden = items.length > 0;
    items.forEach(function (item) {
      var row = document.createElement("tr");
      row.className = item.kind + " " + item.status + (item.flooded ? " flooded" : "");
      row.setAttribute("data-id", item.id);
      cell(row, "#" + item.id);
      var kind = cell(row, t["kind_" + item.kind] || item.kind, "kind " + item.kind);
      if (item.checkin_set_at) {
        var missed = document.createElement("small");
        missed.className = "missed-checkin";
        missed.textContent = " (" + t.missed_checkin.replace("{time}", item.checkin_set_at) + ")";
        kind.appendChild(missed);
      }
      if (item.flooded) {
        var note = document.createElement("small");
        note.className = "flooded";
        note.textContent = " (" + t.flooded + ")";
        kind.appendChild(note);
      }
      cell(row, item.channel);
      cell(row, item.status === "open" ? t.waiting + " " + waited(item.waited) : t.held_by.replace("{name}", item.holder || "?"));
      var action = cell(row, "");
      if (item.status === "open") {
        var form = document.createElement("form");
        form.method = "post";
        form.action = "/console/escalations/" + item.id + "/take";
        var hidden = document.createElement("input");
        hidden.type = "hidden"; hidden.name = "token"; hidden.value = token;
        var button = document.createElement("button");
        button.type = "submit"; button.textContent = t.take; button.className = "take";
        form.appendChild(hidden); form.appendChild(button); action.appendChild(form);
      } else if (item.mine) {
        var link = document.createElement("a");
        link.href = "/console/escalations/" + item.id; link.textContent = t.open; link.className = "button";
        action.appendChild(link);
      }
      body.appendChild(row);
    });
  }

  function refresh() {
    fetch("/console/api/queue", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.json(); }).then(render).catch(function () {});
  }

  refresh();
  var events = new EventSource("/console/events");
  events.addEventListener("change", refresh);
  setInterval(refresh, 30000);  // waiting times keep counting even when nothing changes
})();
