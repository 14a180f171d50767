// The web chat page. Keeps one opaque random session id in sessionStorage (gone when the tab closes),
// no cookies. "Quick exit" deletes the conversation on the server and leaves the page.
(function () {
  "use strict";
  var UI = {
    vi: { title: "Hỗ trợ ẩn danh", exit: "Thoát nhanh", placeholder: "Gõ câu hỏi của bạn…", send: "Gửi",
          label: "Tin nhắn", error: "Không gửi được. Bạn thử lại nhé." },
    en: { title: "Anonymous support", exit: "Quick exit", placeholder: "Type your question…", send: "Send",
          label: "Message", error: "Could not send. Please try again." }
  };
  var locale = "vi";
  var log = document.getElementById("log");
  var form = document.getElementById("form");
  var input = document.getElementById("text");

  function newId() {
    var bytes = new Uint8Array(18);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  var session = sessionStorage.getItem("hotline-session");
  if (!session) { session = newId(); sessionStorage.setItem("hotline-session", session); }

  function setLocale(value) {
    if (!value || !UI[value]) { return; }
    locale = value;
    document.documentElement.lang = value;
    document.getElementById("title").textContent = UI[value].title;
    document.getElementById("exit").textContent = UI[value].exit;
    document.getElementById("send").textContent = UI[value].send;
    document.getElementById("text-label").textContent = UI[value].label;
    input.placeholder = UI[value].placeholder;
  }

  function bubble(text, who) {
    var div = document.createElement("div");
    div.className = "msg " + who;
    div.textContent = text;
    log.appendChild(div);
    log.scrollTop = log.scrollHeight;
    return div;
  }

  function render(replies, who) {
    replies.forEach(function (reply) {
      bubble(reply.text, who || "bot");
      if (reply.choices && reply.choices.length) {
        var box = document.createElement("div");
        box.className = "choices";
        reply.choices.forEach(function (choice) {
          var button = document.createElement("button");
          button.type = "button";
          button.textContent = choice.label;
          button.addEventListener("click", function () {
            bubble(choice.label, "me");
            send({ choice: choice.id });
          });
          box.appendChild(button);
        });
        log.appendChild(box);
        log.scrollTop = log.scrollHeight;
      }
    });
  }

  function post(path, body) {
    return fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      credentials: "omit",
      cache: "no-store"
    }).then(function (response) {
      return response.json().then(function (data) {
        // A refusal that carries replies (429: too many new conversations) is shown: it has the
        // emergency numbers in it.
        if (!response.ok && !(data.replies && data.replies.length)) { throw new Error(data.error || response.status); }
        return data;
      });
    });
  }

  function send(fields) {
    var body = { session: session, id: newId() };
    Object.keys(fields).forEach(function (key) { body[key] = fields[key]; });
    return post("/api/webchat", body).then(function (data) {
      setLocale(data.locale);
      render(data.replies);
    }).catch(function () {
      var div = bubble(UI[locale].error, "bot");
      div.classList.add("error");
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) { return; }
    input.value = "";
    bubble(text, "me");
    send({ text: text });
  });

  // Quick exit: "thoát nhanh" is a command that deletes the conversation at once; then leave.
  document.getElementById("exit").addEventListener("click", function () {
    log.textContent = "";
    post("/api/webchat", { session: session, text: "thoát nhanh" }).catch(function () {}).then(function () {
      sessionStorage.removeItem("hotline-session");
      window.location.replace("about:blank");
    });
  });

  // A counsellor's messages: fetched by a poll, at once when the event stream rings ("inbox"), else
  // every 5 s. The stream carries no text; while it is open the poll runs only every 30 s, as a net.
  var polling = false, again = false, streamOpen = false, ticks = 0;
  function fetchInbox() {
    if (polling) { again = true; return; }
    polling = true;
    post("/api/webchat/poll", { session: session }).then(function (data) {
      if (data.replies && data.replies.length) { render(data.replies, "staff"); }
    }).catch(function () {}).then(function () {
      polling = false;
      if (again) { again = false; fetchInbox(); }
    });
  }
  setInterval(function () {
    ticks += 1;
    if (!streamOpen || ticks % 6 === 0) { fetchInbox(); }
  }, 5000);

  function setStream(open) {
    streamOpen = open;
    document.body.setAttribute("data-push", open ? "on" : "off");
  }
  function openStream() {
    if (!window.EventSource) { return; }
    post("/api/webchat/stream", { session: session }).then(function (data) {
      var stream = new EventSource(data.events);
      stream.addEventListener("open", function () { setStream(true); fetchInbox(); });
      stream.addEventListener("inbox", fetchInbox);
      stream.addEventListener("replaced", function () {  // another tab of this chat holds the stream
        stream.close(); setStream(false); setTimeout(openStream, 60000);
      });
      stream.addEventListener("error", function () {
        setStream(false);  // the browser reconnects by itself unless the server refused the stream
        if (stream.readyState === EventSource.CLOSED) { setTimeout(openStream, 30000); }
      });
    }).catch(function () { setTimeout(openStream, 30000); });
  }

  send({ event: "start" }).then(openStream);
})();
