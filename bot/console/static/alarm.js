// Never miss one: on every console page, a new emergency rings (a sound, the page title, a browser
// notification where the counsellor allowed it, a vibration on phones) and a red bar links to the queue.
// One event stream per page, shared with the page's own scripts (window.consoleEvents).
(function () {
  "use strict";
  var bar = document.getElementById("alarm");
  if (!bar) { return; }  // not logged in
  var t = JSON.parse(document.getElementById("alarm-words").textContent);
  var title = document.title;
  var enable = document.getElementById("alarm-enable");
  var audio = null;
  var rings = 0;
  // Ids this browser tab already rang for: moving between console pages does not ring again.
  function remembered(key) {
    try { return JSON.parse(window.sessionStorage.getItem(key) || "[]"); } catch (e) { return []; }
  }
  var rung = remembered("hotline-rung");
  var rungLate = remembered("hotline-rung-late");
  var rungHanded = remembered("hotline-rung-handed");
  function remember(key, ids) {
    try { window.sessionStorage.setItem(key, JSON.stringify(ids.slice(-200))); } catch (e) { /* private mode */ }
  }

  function beep() {
    try {
      var Context = window.AudioContext || window.webkitAudioContext;
      audio = audio || new Context();
      if (audio.state === "suspended") { audio.resume(); }
      [0, 0.35, 0.7].forEach(function (start) {
        var tone = audio.createOscillator();
        var gain = audio.createGain();
        tone.frequency.value = 880;
        gain.gain.value = 0.3;
        tone.connect(gain); gain.connect(audio.destination);
        tone.start(audio.currentTime + start);
        tone.stop(audio.currentTime + start + 0.25);
      });
    } catch (e) { /* no sound: the title, the bar and the notification still show it */ }
    if (navigator.vibrate) { navigator.vibrate([300, 120, 300, 120, 300]); }
  }

  function notify(item, why) {
    if (!("Notification" in window) || Notification.permission !== "granted") { return; }
    try {
      // The notification says what a page says: the number and the kind of risk, never what was written.
      var title = { "new": t.alarm_new, "late": t.alarm_late, "handed": t.handed_to_you }[why];
      var note = new Notification(title.replace("{id}", item.id), {
        body: item.risk ? (t["risk_" + item.risk] || item.risk) : (t["kind_" + item.kind] || item.kind),
        tag: "hotline-" + item.id + "-" + why,
        requireInteraction: true
      });
      var target = why === "handed" ? "/console/escalations/" + item.id : "/console";
      note.onclick = function () { window.focus(); window.location.href = target; };
    } catch (e) { /* some phones allow notifications only from a service worker */ }
  }

  function ring() {
    rings += 1;
    document.body.setAttribute("data-rings", String(rings));
    beep();
  }

  function check() {
    fetch("/console/api/queue", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (items) {
        var waiting = items.filter(function (i) { return i.status === "open" && i.level === "emergency"; });
        var late = items.filter(function (i) { return i.late; });
        // A flooding client's emergencies are listed and counted, but ring only once they are late.
        var fresh = waiting.filter(function (i) { return !i.flooded && rung.indexOf(i.id) < 0; });
        var freshLate = late.filter(function (i) { return rungLate.indexOf(i.id) < 0; });
        // a case handed over to this counsellor with a note
        var handed = items.filter(function (i) { return i.handed_over && rungHanded.indexOf(i.id) < 0; });
        document.title = waiting.length ? "(" + waiting.length + ") 🚨 " + t.alarm_title + " – " + title : title;
        bar.hidden = waiting.length === 0 && late.length === 0;
        bar.classList.toggle("late", late.length > 0);
        bar.querySelector("a").textContent = (late.length ? t.alarm_bar_late : t.alarm_bar)
          .replace("{n}", String(Math.max(waiting.length, late.length)));
        // one ring for whatever is new in this look; a notification for each case
        if (fresh.length || freshLate.length || handed.length) {
          ring();
          fresh.forEach(function (item) { notify(item, "new"); });
          freshLate.forEach(function (item) { notify(item, "late"); });
          handed.forEach(function (item) { notify(item, "handed"); });
          rung = rung.concat(fresh.map(function (i) { return i.id; }));
          rungLate = rungLate.concat(freshLate.map(function (i) { return i.id; }));
          rungHanded = rungHanded.concat(handed.map(function (i) { return i.id; }));
          remember("hotline-rung", rung);
          remember("hotline-rung-late", rungLate);
          remember("hotline-rung-handed", rungHanded);
        }
      })
      .catch(function () {});
  }

  // Shown until the counsellor tapped it in this tab and answered the notification question: the tap
  // lets this page make sound (browsers block sound before one); later pages of the tab usually may too.
  function showEnable() {
    var asked = !("Notification" in window) || Notification.permission !== "default";
    var tapped = false;
    try { tapped = window.sessionStorage.getItem("hotline-alarm-on") === "1"; } catch (e) { /* private mode */ }
    enable.hidden = asked && (tapped || (audio !== null && audio.state === "running"));
  }
  enable.addEventListener("click", function () {
    try { window.sessionStorage.setItem("hotline-alarm-on", "1"); } catch (e) { /* private mode */ }
    beep();
    if ("Notification" in window && Notification.permission === "default") {
      Notification.requestPermission().then(showEnable);
    }
    showEnable();
  });
  showEnable();

  window.consoleEvents = window.consoleEvents || new EventSource("/console/events");
  window.consoleEvents.addEventListener("change", check);
  check();
  setInterval(check, 15000);  // waiting times keep counting: a case turns late without any change
})();
