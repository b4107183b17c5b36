// Editor page: play exactly one passage, keyboard shortcuts. The page works without this file.
(function () {
  "use strict";
  var audio = document.getElementById("editor-audio");
  var list = document.getElementById("passages");
  if (!list) return;
  Array.prototype.forEach.call(document.querySelectorAll(".js-only"), function (el) { el.hidden = false; });
  var passages = Array.prototype.slice.call(list.querySelectorAll("li.passage"));
  var current = null;   // the passage being worked on
  var stopAt = null;    // end of the passage whose play button was pressed

  function select(li) {
    if (current) current.classList.remove("current");
    current = li;
    if (li) li.classList.add("current");
  }

  function playPassage(li) {
    if (!audio) return;
    select(li);
    audio.currentTime = parseFloat(li.dataset.start);
    stopAt = parseFloat(li.dataset.end);
    audio.play();
  }

  if (audio) {
    audio.addEventListener("timeupdate", function () {
      if (stopAt !== null && audio.currentTime >= stopAt) { audio.pause(); stopAt = null; }
      var t = audio.currentTime;
      passages.forEach(function (li) {
        li.classList.toggle("playing", t >= parseFloat(li.dataset.start) && t < parseFloat(li.dataset.end));
      });
    });
  }

  list.addEventListener("click", function (ev) {
    var play = ev.target.closest("a.play");
    if (play && audio) { ev.preventDefault(); playPassage(play.closest("li.passage")); }
  });
  list.addEventListener("focusin", function (ev) { select(ev.target.closest("li.passage")); });

  function togglePlay() {
    if (!audio) return;
    stopAt = null;
    if (audio.paused) audio.play(); else audio.pause();
  }
  function replay() {
    if (!audio) return;
    stopAt = null;
    audio.currentTime = Math.max(0, audio.currentTime - 5);
    audio.play();
  }
  function next() {
    var i = current ? passages.indexOf(current) + 1 : 0;
    var li = passages[Math.min(i, passages.length - 1)];
    if (!li) return;
    li.scrollIntoView({ block: "center" });
    var area = li.querySelector("textarea");
    if (area) area.focus();
    playPassage(li);
  }

  document.addEventListener("keydown", function (ev) {
    var typing = /^(TEXTAREA|INPUT|SELECT)$/.test(ev.target.tagName);
    var key = ev.key.toLowerCase();
    if (typing && ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) {
      var form = ev.target.form;
      if (form) { ev.preventDefault(); form.requestSubmit(); }
      return;
    }
    // Alt+letter works while typing; a bare letter only outside text fields. ev.code: Alt changes ev.key on macOS.
    var code = ev.code ? ev.code.replace("Key", "").toLowerCase() : key;
    var letter = ev.altKey && !ev.ctrlKey && !ev.metaKey ? code : (!typing && !ev.ctrlKey && !ev.metaKey && !ev.altKey ? key : null);
    if (letter === "k") { ev.preventDefault(); togglePlay(); }
    else if (letter === "j") { ev.preventDefault(); next(); }
    else if (letter === "r") { ev.preventDefault(); replay(); }
  });
})();
