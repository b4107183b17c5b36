// Player enhancements: seek from timestamps, follow the passage being heard.
// The page works without this file: timestamps are plain links with ?t=.
(function () {
  "use strict";
  var audio = document.getElementById("player");
  var list = document.getElementById("transcript");
  if (!audio) { return; }
  var passages = list ? Array.prototype.slice.call(list.querySelectorAll(".passage")) : [];
  var current = null;

  function seek(seconds, play) {
    audio.currentTime = seconds;
    if (play) { audio.play().catch(function () {}); }
  }

  var start = parseFloat(audio.dataset.start);
  if (!isNaN(start)) {
    if (audio.readyState >= 1) { seek(start, false); }
    else { audio.addEventListener("loadedmetadata", function () { seek(start, false); }, { once: true }); }
  }

  if (list) {
    list.addEventListener("click", function (event) {
      var link = event.target.closest("a[data-seek]");
      if (!link) { return; }
      event.preventDefault();
      seek(parseFloat(link.dataset.seek), true);
      history.replaceState(null, "", "?t=" + link.dataset.seek + "#" + link.parentElement.id);
    });
  }

  audio.addEventListener("timeupdate", function () {
    var t = audio.currentTime, found = null;
    for (var i = 0; i < passages.length; i++) {
      if (t >= parseFloat(passages[i].dataset.start) && t < parseFloat(passages[i].dataset.end)) {
        found = passages[i]; break;
      }
    }
    if (found === current) { return; }
    if (current) { current.classList.remove("playing"); current.removeAttribute("aria-current"); }
    current = found;
    if (current) { current.classList.add("playing"); current.setAttribute("aria-current", "true"); }
  });
})();
