// MASK links pages: the link builder's live previews, the list's selection, keyboard shortcuts. Every form works
// without this file (the server adds https://, reads times in the form's zone, confirms deletes on its own page).
(function () {
  "use strict";

  var BARE_URL = /^(?:localhost|[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,63}|\d{1,3}(?:\.\d{1,3}){3})(?::\d+)?(?:[/?#]|$)/i;
  var UTM = ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"];

  function withScheme(raw) {
    return raw && raw.indexOf("://") < 0 && BARE_URL.test(raw) ? "https://" + raw : raw;
  }

  function debounce(fn, ms) {
    var timer = null;
    return function () { clearTimeout(timer); timer = setTimeout(fn, ms); };
  }

  function typing(target) {
    if (!target || !target.closest) return false;
    return !!target.closest("input, textarea, select, [contenteditable=''], [contenteditable=true]");
  }

  // The error summary: focus moves to it (autofocus may be ignored when the page is restored), and each of its
  // links focuses its field, opening the section it is folded in.
  var summary = document.getElementById("error-summary");
  if (summary && document.activeElement !== summary) summary.focus();
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("#error-summary a[data-field]");
    if (!link) return;
    var field = document.getElementById(link.getAttribute("data-field"));
    if (!field) return;
    event.preventDefault();
    var folded = field.closest("details");
    if (folded) folded.open = true;
    field.focus();
  });

  // The browser's time zone: sent with the form (times typed are read in it) and kept in a cookie, so the next
  // page shows stored times in it. On a first visit the server drew them in another zone: redraw from UTC.
  var zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { zone = ""; }
  if (zone) document.cookie = "mask_tz=" + zone.replace(/[^A-Za-z0-9_+\/-]/g, "") + "; path=/app; max-age=31536000; samesite=lax";

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function localValue(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) return "";
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" + pad(d.getHours()) + ":" + pad(d.getMinutes());
  }

  var form = document.querySelector("form[data-builder]");
  if (form) builder(form);

  function builder(form) {
    var tz = form.querySelector("[data-tz]");
    if (tz && zone && tz.value !== zone) {
      form.querySelectorAll("input[data-time]").forEach(function (input) {
        var utc = input.getAttribute("data-utc");
        if (utc) input.value = localValue(utc);
      });
      tz.value = zone;
    }
    if (tz) {
      form.querySelectorAll("input[data-time]").forEach(function (input) {
        var hint = document.getElementById("h-" + input.name);
        if (hint) hint.textContent = hint.textContent.replace(/^In your time zone: [^ .]+\./, "In your time zone: " + tz.value + ".");
      });
    }

    var url = form.querySelector("[data-url]");
    var slug = form.querySelector("#f-slug");
    var domain = form.querySelector("#f-domain");
    var shortPreview = document.getElementById("short-preview");
    var qr = document.getElementById("builder-qr");
    var qrNote = document.getElementById("builder-qr-note");

    // Destination: `example.com/page` gets its https:// as soon as the field is left (the server does the same).
    function fixScheme() {
      if (!url) return;
      var fixed = withScheme(url.value.trim());
      if (fixed !== url.value) url.value = fixed;
    }
    if (url) url.addEventListener("blur", fixScheme);
    form.addEventListener("submit", fixScheme);

    // The short URL and its QR code, as the slug is typed.
    var redrawQr = debounce(function () {
      if (!qr) return;
      var value = slug.value.trim();
      if (/^[A-Za-z0-9_-]{1,64}$/.test(value)) {
        var params = new URLSearchParams({ domain: domain.value, slug: value });
        qr.src = form.getAttribute("data-qr-base") + "?" + params.toString();
        qr.alt = "QR code preview of " + domain.value + "/" + value;
        qr.hidden = false;
        if (qrNote) qrNote.hidden = true;
      } else {
        qr.hidden = true;
        if (qrNote) qrNote.hidden = false;
      }
    }, 250);
    function preview() {
      if (!slug || !domain || !shortPreview) return;
      shortPreview.textContent = domain.value + "/" + (slug.value.trim() || "…");
      redrawQr();
    }
    if (slug) slug.addEventListener("input", preview);
    if (domain) domain.addEventListener("change", preview);

    // UTM builder: the fields and the destination's utm_ query parameters edit each other.
    function parse(raw) {
      try { return new URL(raw); } catch (e) { return null; }
    }
    function fieldsToUrl() {
      if (!url) return;
      var parsed = parse(withScheme(url.value.trim()));
      if (!parsed) return;
      UTM.forEach(function (name) {
        var input = form.querySelector("[name=" + name + "]");
        var value = input ? input.value.trim() : "";
        if (value) { parsed.searchParams.set(name, value); } else { parsed.searchParams.delete(name); }
      });
      url.value = parsed.toString();
    }
    function urlToFields() {
      var parsed = parse(withScheme(url.value.trim()));
      if (!parsed) return;
      var any = false;
      UTM.forEach(function (name) {
        var input = form.querySelector("[name=" + name + "]");
        if (!input) return;
        var value = parsed.searchParams.get(name);
        if (value !== null) { input.value = value; any = true; }
        else if (input.value && document.activeElement === url) { input.value = ""; }
      });
      var box = document.getElementById("utm-builder");
      if (any && box) box.open = true;
    }
    form.querySelectorAll("[data-utm]").forEach(function (input) { input.addEventListener("input", fieldsToUrl); });
    if (url) url.addEventListener("input", urlToFields);

    // Tags: coloured chips of what is typed, and the workspace's tags one click away.
    var tags = form.querySelector("[data-tags]");
    var chips = document.getElementById("tag-chips");
    var colorsSource = document.getElementById("tag-colors");
    var colors = colorsSource ? JSON.parse(colorsSource.textContent) : {};
    function names() {
      return tags.value.split(",").map(function (t) { return t.trim(); }).filter(function (t) { return t; });
    }
    function drawChips() {
      if (!tags || !chips) return;
      chips.textContent = "";
      names().forEach(function (name) {
        var chip = document.createElement("span");
        chip.className = "tag tag-" + (colors[name] || "gray");
        chip.textContent = name;
        chips.appendChild(chip);
      });
    }
    if (tags) tags.addEventListener("input", drawChips);
    form.addEventListener("click", function (event) {
      var button = event.target.closest && event.target.closest("[data-add-tag]");
      if (!button || !tags) return;
      var name = button.getAttribute("data-add-tag");
      var current = names();
      if (current.indexOf(name) < 0) current.push(name);
      tags.value = current.join(", ");
      drawChips();
    });

    // The social card follows its fields; "Fetch from page" fills them from the destination's tags.
    var ogTitle = document.querySelector("[data-og-title]");
    var ogDescription = document.querySelector("[data-og-description]");
    var ogImage = document.querySelector("[data-og-image]");
    var emptyTitle = ogTitle ? ogTitle.textContent : "";
    function drawCard() {
      var title = form.querySelector("[data-og=title]");
      var description = form.querySelector("[data-og=description]");
      var image = form.querySelector("[data-og=image]");
      if (ogTitle && title) ogTitle.textContent = title.value.trim() || emptyTitle;
      if (ogDescription && description) ogDescription.textContent = description.value.trim();
      if (ogImage && image) {
        var src = image.value.trim();
        var box = document.querySelector("[data-og-image-box]");
        if (box) box.hidden = src.indexOf("https://") !== 0;
        ogImage.href = src.indexOf("https://") === 0 ? src : "";
        ogImage.textContent = src;
      }
    }
    form.querySelectorAll("[data-og]").forEach(function (input) { input.addEventListener("input", drawCard); });
    var fetchButton = form.querySelector("[data-fetch-preview]");
    var fetchStatus = document.getElementById("fetch-status");
    if (fetchButton && window.fetch) {
      fetchButton.addEventListener("click", function (event) {
        event.preventDefault();
        fixScheme();
        if (fetchStatus) fetchStatus.textContent = "Fetching…";
        var address = form.getAttribute("data-metadata") + "?" + new URLSearchParams({ url: url.value.trim() }).toString();
        fetch(address, { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (response) { return response.json().then(function (body) { return [response.ok, body]; }); })
          .then(function (answer) {
            var ok = answer[0], body = answer[1];
            if (!ok) { if (fetchStatus) fetchStatus.textContent = (body.error && body.error.message) || "The page could not be read."; return; }
            [["title", body.title], ["description", body.description], ["image", body.image_url]].forEach(function (pair) {
              var input = form.querySelector("[data-og=" + pair[0] + "]");
              if (input && pair[1]) input.value = pair[1];
            });
            drawCard();
            if (fetchStatus) fetchStatus.textContent = "Filled from the page: check and save.";
          })
          .catch(function () { if (fetchStatus) fetchStatus.textContent = "The page could not be read."; });
      });
    }
  }

  // The list: select all, and how many are selected.
  function countSelected() {
    var boxes = document.querySelectorAll("input[name=ids][form=bulk-form]");
    var checked = document.querySelectorAll("input[name=ids][form=bulk-form]:checked").length;
    var all = document.querySelector("[data-select-all]");
    if (all) {
      all.checked = boxes.length > 0 && checked === boxes.length;
      all.indeterminate = checked > 0 && checked < boxes.length;
    }
    var label = document.getElementById("selected-count");
    if (label) label.textContent = checked ? checked + " selected" : "Select links with the boxes to act on several at once.";
  }
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("[data-select-all]")) {
      document.querySelectorAll("input[name=ids][form=bulk-form]").forEach(function (box) { box.checked = target.checked; });
      countSelected();
    } else if (target.matches && target.matches("input[name=ids][form=bulk-form]")) {
      countSelected();
    }
  });
  document.addEventListener("htmx:afterSwap", countSelected);

  // Keyboard shortcuts: never while typing in a field, never with Ctrl, Alt or Meta.
  var help = document.getElementById("shortcuts");
  document.querySelectorAll("[data-shortcuts-open]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { if (help && help.showModal) help.showModal(); });
  });
  function copyShort() {
    var row = document.activeElement && document.activeElement.closest && document.activeElement.closest("#link-results tr");
    var button = row ? row.querySelector("[data-copy]") : document.querySelector("[data-copy-short] [data-copy]");
    if (!button) button = document.querySelector("#link-results tbody [data-copy]");
    if (button) button.click();
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    if (typing(event.target) || (help && help.open && event.key !== "?")) return;
    if (event.key === "c") {
      var create = document.querySelector("[data-shortcut-new]");
      var base = document.querySelector("form[data-builder]");
      var target = create ? create.href : (base ? base.getAttribute("data-qr-base").replace(/\/qr-preview\.svg$/, "/new") : "");
      if (target) { event.preventDefault(); window.location.href = target; }
    } else if (event.key === "/") {
      var search = document.getElementById("f-q");
      if (search) { event.preventDefault(); search.focus(); search.select(); }
    } else if (event.key === "y") {
      event.preventDefault();
      copyShort();
    } else if (event.key === "?") {
      event.preventDefault();
      if (help && help.showModal) { if (help.open) help.close(); else help.showModal(); }
    }
  });
})();
