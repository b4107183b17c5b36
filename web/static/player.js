// Episode page enhancements: the player follows the transcript, clicks seek, quotes are shared.
// The page works without this file: timestamps are links with ?t=, quotes are ?start=&end= links
// and the audio's #t= media fragment starts (and stops) playback where the link says.
(function () {
  "use strict";
  var audio = document.getElementById("player");
  var list = document.getElementById("transcript");
  var followButton = document.getElementById("follow");
  var passages = list ? Array.prototype.slice.call(list.querySelectorAll(".passage")) : [];
  var starts = passages.map(function (p) { return parseFloat(p.dataset.start); });
  var ends = passages.map(function (p) { return parseFloat(p.dataset.end); });
  var current = null;
  var following = true;
  var stopAt = null;

  Array.prototype.forEach.call(document.querySelectorAll(".js-only"), function (el) { el.hidden = false; });

  function parseTime(text) {
    // "75.5", "1:15" or "1:02:05" -> seconds; NaN when it is not a time.
    if (!text) { return NaN; }
    var total = 0, parts = String(text).split(":");
    for (var i = 0; i < parts.length; i++) {
      var n = parseFloat(parts[i]);
      if (isNaN(n) || n < 0) { return NaN; }
      total = total * 60 + n;
    }
    return total;
  }

  function seek(seconds, play) {
    if (!audio || isNaN(seconds)) { return; }
    audio.currentTime = seconds;
    if (play) { audio.play().catch(function () {}); }
  }

  // Seconds as M:SS or H:MM:SS, as the server writes them (web/filters.py clock).
  function clock(seconds) {
    var total = Math.floor(seconds), h = Math.floor(total / 3600), m = Math.floor(total % 3600 / 60), s = total % 60;
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return h ? h + ":" + pad(m) + ":" + pad(s) : m + ":" + pad(s);
  }

  // The passage at time t: binary search over the sorted starts.
  function passageAt(t) {
    var lo = 0, hi = starts.length - 1, found = -1;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (starts[mid] <= t) { found = mid; lo = mid + 1; } else { hi = mid - 1; }
    }
    return found >= 0 && t < ends[found] + 0.5 ? passages[found] : null;
  }

  function scrollToCurrent() {
    if (current) { current.scrollIntoView({ block: "center", behavior: "smooth" }); }
  }

  // Chapters (server-rendered ?t= links): the one being heard is marked like the passage.
  var chapterNav = document.getElementById("chapters");
  var chapterLinks = chapterNav ? Array.prototype.slice.call(chapterNav.querySelectorAll("a[data-seek]")) : [];
  var currentChapter = null;

  function markChapter(t) {
    var found = null;
    chapterLinks.forEach(function (a) { if (parseFloat(a.dataset.seek) <= t + 0.05) { found = a; } });
    if (found === currentChapter) { return; }
    if (currentChapter) { currentChapter.removeAttribute("aria-current"); }
    currentChapter = found;
    if (found) { found.setAttribute("aria-current", "true"); }
  }

  function highlight() {
    markChapter(audio.currentTime);
    var found = passageAt(audio.currentTime);
    if (found === current) { return; }
    if (current) { current.classList.remove("playing"); current.removeAttribute("aria-current"); }
    current = found;
    if (!current) { return; }
    current.classList.add("playing");
    current.setAttribute("aria-current", "true");
    if (following && !audio.paused) { scrollToCurrent(); }
  }

  function setFollowing(on) {
    following = on;
    if (followButton) { followButton.hidden = on; }
    if (on) { scrollToCurrent(); }
  }

  if (audio) {
    // Where to start: ?start=&end= and ?t= come from the server; #t= only the browser sees.
    var start = parseFloat(audio.dataset.start);
    var end = parseFloat(audio.dataset.end);
    var hash = /^#t=([0-9:.]+)(?:,([0-9:.]+))?$/.exec(location.hash);
    if (hash) {
      start = parseTime(hash[1]);
      end = hash[2] ? parseTime(hash[2]) : NaN;
    }
    if (!isNaN(end)) { stopAt = end; }
    if (!isNaN(start)) {
      // A deep link without a passage anchor: bring the passage into view once the seek lands.
      if (!/^#p-/.test(location.hash)) {
        audio.addEventListener("seeked", function () { highlight(); scrollToCurrent(); }, { once: true });
      }
      if (audio.readyState >= 1) { seek(start, false); }
      else { audio.addEventListener("loadedmetadata", function () { seek(start, false); }, { once: true }); }
    }

    audio.addEventListener("timeupdate", function () {
      // A shared quote plays just its range, once; seeking elsewhere lifts the limit.
      if (stopAt !== null && audio.currentTime >= stopAt) { audio.pause(); stopAt = null; }
      highlight();
    });
    audio.addEventListener("seeked", highlight);
  }

  // The time of the word under a click: the n-th word of the passage text starts at the
  // n-th offset of data-w (offsets from the passage start, in seconds).
  function wordTime(event) {
    var text = event.target.closest("p.text[data-w]");
    if (!text) { return NaN; }
    var node, offset;
    if (document.caretRangeFromPoint) {
      var range = document.caretRangeFromPoint(event.clientX, event.clientY);
      if (!range) { return NaN; }
      node = range.startContainer; offset = range.startOffset;
    } else if (document.caretPositionFromPoint) {
      var pos = document.caretPositionFromPoint(event.clientX, event.clientY);
      if (!pos) { return NaN; }
      node = pos.offsetNode; offset = pos.offset;
    } else { return NaN; }
    if (!node || node.nodeType !== 3 || node.parentNode !== text) { return NaN; }
    var before = node.data.slice(0, offset);
    var index = (before.match(/\S+/g) || []).length - (/\S$/.test(before) ? 1 : 0);
    var offsets = text.dataset.w.split(" ");
    var passage = text.closest(".passage");
    var at = parseFloat(offsets[Math.max(0, Math.min(index, offsets.length - 1))]);
    return parseFloat(passage.dataset.start) + at;
  }

  if (list && audio) {
    list.addEventListener("click", function (event) {
      var link = event.target.closest("a[data-seek]");
      var selection = window.getSelection();
      var cite = event.target.closest("a[data-quote]");
      if (cite && share) {
        // Shift widens the open quote to this passage; otherwise a new quote starts here.
        event.preventDefault();
        var i = passages.indexOf(cite.closest(".passage"));
        if (event.shiftKey && range) { offerRange(range[0], i, cite); } else { offerRange(i, i, cite); }
        document.getElementById("share-copy").focus();
      } else if (link) {
        event.preventDefault();
        stopAt = null;
        seek(parseFloat(link.dataset.seek), true);
        setFollowing(true);
        history.replaceState(null, "", "?t=" + link.dataset.seek + "#" + link.closest(".passage").id);
      } else if (!selection || selection.isCollapsed) {
        var t = wordTime(event);
        if (!isNaN(t)) { stopAt = null; seek(t, true); }
      }
    });
  }

  if (chapterNav && audio) {
    chapterNav.addEventListener("click", function (event) {
      var link = event.target.closest("a[data-seek]");
      if (!link) { return; }
      event.preventDefault();
      stopAt = null;
      seek(parseFloat(link.dataset.seek), true);
      setFollowing(true);
      history.replaceState(null, "", "?t=" + link.dataset.seek);
    });
  }

  // The reader scrolled on their own: stop following until they ask again.
  function readerScrolled() {
    if (following && audio && !audio.paused) { setFollowing(false); }
  }
  window.addEventListener("wheel", readerScrolled, { passive: true });
  window.addEventListener("touchmove", readerScrolled, { passive: true });
  window.addEventListener("keydown", function (event) {
    var keys = ["PageUp", "PageDown", "ArrowUp", "ArrowDown", "Home", "End"];
    if (keys.indexOf(event.key) >= 0 && !event.target.closest("audio, input, textarea")) { readerScrolled(); }
  });
  if (followButton) { followButton.addEventListener("click", function () { setFollowing(true); }); }

  // Quote sharing: a selection across passages becomes a ?start=&end= link.
  var share = document.getElementById("share");
  var shareUrl = document.getElementById("share-url");
  var shareStatus = document.getElementById("share-status");
  var earlier = document.getElementById("share-earlier");
  var later = document.getElementById("share-later");
  var selected = [];
  var range = null;      // [first, last] passage indexes of the quote on offer
  var returnTo = null;   // the control that opened the panel: focus goes back there on close

  function clearSelected() {
    selected.forEach(function (p) { p.classList.remove("selected"); });
    selected = [];
  }

  function passageOf(node) {
    var el = node && (node.nodeType === 1 ? node : node.parentElement);
    return el ? el.closest(".passage") : null;
  }

  function onSelection() {
    var selection = window.getSelection();
    if (!selection || selection.isCollapsed || !list) { return; }
    var a = passageOf(selection.anchorNode), b = passageOf(selection.focusNode);
    if (!a || !b || !list.contains(a) || !list.contains(b)) { return; }
    offerRange(passages.indexOf(a), passages.indexOf(b));
  }

  function offerRange(i, j, opener) {
    if (i < 0 || j < 0) { return; }
    if (i > j) { var k = i; i = j; j = k; }
    clearSelected();
    range = [i, j];
    if (opener) { returnTo = opener; }
    selected = passages.slice(i, j + 1);
    selected.forEach(function (p) { p.classList.add("selected"); });
    var url = location.origin + location.pathname + "?start=" + passages[i].dataset.start + "&end=" + passages[j].dataset.end;
    shareUrl.value = url;
    // Said aloud (role=status): a keyboard or screen-reader user hears what the link now covers.
    shareStatus.textContent = share.dataset.range
      .replace("{start}", clock(parseFloat(passages[i].dataset.start)))
      .replace("{end}", clock(parseFloat(passages[j].dataset.end)));
    // aria-disabled, not disabled: the focused button must keep focus at the first or last passage.
    if (earlier) { earlier.setAttribute("aria-disabled", String(i === 0)); }
    if (later) { later.setAttribute("aria-disabled", String(j === passages.length - 1)); }
    share.hidden = false;
  }

  function closeShare() {
    share.hidden = true;
    clearSelected();
    range = null;
    if (returnTo && document.contains(returnTo)) { returnTo.focus(); }
    returnTo = null;
  }

  if (share && list) {
    list.addEventListener("mouseup", function () { setTimeout(onSelection, 0); });
    list.addEventListener("keyup", function (event) { if (event.shiftKey) { onSelection(); } });
    document.getElementById("share-copy").addEventListener("click", function () {
      function done() { shareStatus.textContent = share.dataset.copied; }
      function fallback() {
        shareUrl.focus();
        shareUrl.select();
        try { document.execCommand("copy"); done(); } catch (e) { shareStatus.textContent = share.dataset.copyFailed; }
      }
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(shareUrl.value).then(done, fallback);
      } else { fallback(); }
    });
    // From the keyboard: share the passage being heard (or the first one).
    var shareCurrent = document.getElementById("share-current");
    if (shareCurrent) {
      shareCurrent.addEventListener("click", function () {
        var p = (audio && passageAt(audio.currentTime)) || passages[0];
        if (!p) { return; }
        offerRange(passages.indexOf(p), passages.indexOf(p), shareCurrent);
        document.getElementById("share-copy").focus();
      });
    }
    // Widen the quote one passage at a time: the keyboard's way to pick a range.
    if (earlier) {
      earlier.addEventListener("click", function () { if (range && range[0] > 0) { offerRange(range[0] - 1, range[1]); } });
    }
    if (later) {
      later.addEventListener("click", function () {
        if (range && range[1] < passages.length - 1) { offerRange(range[0], range[1] + 1); }
      });
    }
    document.getElementById("share-close").addEventListener("click", closeShare);
    share.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { event.preventDefault(); closeShare(); }
    });
  }
})();
