// The live queue: refreshed whenever the server says something changed (server-sent events).
// Columns: number, level, kind, language, channel, waiting time; a case waiting longer than the page's
// acknowledgement window (when re-paging starts) is red.
(function () {
  "use strict";
  var t = JSON.parse(document.getElementById("words").textContent);
  var table = document.getElementById("queue");
  var body = table.querySelector("tbody");
  var token = table.getAttribute("data-token");

  function waited(seconds) {
    return seconds < 60 ? t.seconds.replace("{n}", seconds) : t.minutes.replace("{n}", Math.floor(seconds / 60));
  }

  function cell(row, text, className, label) {
    var td = document.createElement("td");
    if (className) { td.className = className; }
    if (label) { td.setAttribute("data-label", label); }  // shown before the value on a phone
    td.textContent = text;
    row.appendChild(td);
    return td;
  }

  function small(parent, className, text) {
    var note = document.createElement("small");
    note.className = className;
    note.textContent = " (" + text + ")";
    parent.appendChild(note);
  }

  function render(items) {
    body.textContent = "";
    document.getElementById("empty").hidden = items.length > 0;
    items.forEach(function (item) {
      var row = document.createElement("tr");
      row.className = item.kind + " " + item.status + (item.flooded ? " flooded" : "") + (item.late ? " late" : "");
      row.setAttribute("data-id", item.id);
      cell(row, "#" + item.id, "id");
      cell(row, t["level_" + item.level] || item.level, "level " + item.level, t.col_level);
      var kind = cell(row, item.risk ? (t["risk_" + item.risk] || item.risk) : (t["kind_" + item.kind] || item.kind),
                      "kind " + item.kind, t.col_kind);
      if (item.checkin_set_at) { small(kind, "missed-checkin", t.missed_checkin.replace("{time}", item.checkin_set_at)); }
      if (item.flooded) { small(kind, "flooded", t.flooded); }
      if (item.handed_over) { small(kind, "handed", t.handed_to_you.replace("{id}", item.id)); }
      cell(row, item.locale ? (t["lang_" + item.locale] || item.locale) : "?", "lang", t.col_language);
      cell(row, item.channel, "channel", t.col_channel);
      var wait = cell(row, item.status === "open" ? waited(item.waited) : t.held_by.replace("{name}", item.holder || "?"),
                      "wait", t.col_waiting);
      if (item.late) { small(wait, "late-note", t.late); }
      var action = cell(row, "", "action");
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
  var events = window.consoleEvents || new EventSource("/console/events");
  events.addEventListener("change", refresh);
  setInterval(refresh, 15000);  // waiting times keep counting even when nothing changes
})();
