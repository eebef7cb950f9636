// MASK dashboard: small progressive enhancements. Everything works without this file; it only adds comfort.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function toast(message) {
    var box = document.getElementById("toast");
    if (!box) return;
    box.textContent = message;
    box.classList.add("show");
    clearTimeout(box._timer);
    box._timer = setTimeout(function () { box.classList.remove("show"); }, 1800);
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    // Plain-HTTP self-hosting has no async clipboard API: fall back to a selected textarea.
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.className = "offscreen";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      document.body.removeChild(area);
      if (ok) { resolve(); } else { reject(new Error("copy failed")); }
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (button) {
      copyText(button.getAttribute("data-copy")).then(function () {
        var label = button.textContent;
        button.textContent = "Copied";
        button.classList.add("copied");
        toast("Copied to the clipboard");
        setTimeout(function () { button.textContent = label; button.classList.remove("copied"); }, 1500);
      }, function () { toast("Copy failed: select the text and press Ctrl+C"); });
      return;
    }
    // Close open dropdowns when clicking elsewhere.
    document.querySelectorAll("details.dropdown[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    document.querySelectorAll("details.dropdown[open]").forEach(function (menu) {
      menu.removeAttribute("open");
      var summary = menu.querySelector("summary");
      if (summary) summary.focus();
    });
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  }, true);

  document.addEventListener("change", function (event) {
    var select = event.target;
    if (select.hasAttribute && select.hasAttribute("data-autosubmit") && select.form) select.form.requestSubmit();
  });

  // Bio page blocks: drag and drop posts the new order (the arrow buttons do the same without a mouse).
  document.querySelectorAll("[data-reorder]").forEach(function (list) {
    var form = document.getElementById(list.getAttribute("data-reorder"));
    var dragged = null;
    list.addEventListener("dragstart", function (event) {
      dragged = event.target.closest("[data-id]");
      if (!dragged) return;
      dragged.classList.add("dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", dragged.getAttribute("data-id"));
    });
    list.addEventListener("dragover", function (event) {
      var over = event.target.closest("[data-id]");
      if (!dragged || !over || over === dragged) return;
      event.preventDefault();
      var box = over.getBoundingClientRect();
      var after = event.clientY > box.top + box.height / 2;
      list.insertBefore(dragged, after ? over.nextSibling : over);
    });
    list.addEventListener("dragend", function () {
      if (!dragged) return;
      dragged.classList.remove("dragging");
      dragged = null;
      var order = Array.prototype.map.call(list.querySelectorAll("[data-id]"), function (item) {
        return item.getAttribute("data-id");
      });
      form.querySelector("input[name=order]").value = order.join(",");
      form.requestSubmit();
    });
  });

  // Breakdown bars: their width is the row's share of all clicks (set here: the CSP allows no inline style).
  // Cards arrive after the page (htmx), so new bars are sized as they appear.
  function sizeBars(root) {
    root.querySelectorAll(".bar[data-share]").forEach(function (bar) {
      var share = parseFloat(bar.getAttribute("data-share")) || 0;
      bar.style.width = Math.max(0, Math.min(1, share)) * 100 + "%";
      bar.removeAttribute("data-share");
    });
  }
  sizeBars(document);
  if (window.MutationObserver) {
    new MutationObserver(function () { sizeBars(document); })
      .observe(document.body, { childList: true, subtree: true });
  }

  // Time-series charts (uPlot): data comes from a JSON script element next to the chart.
  function drawCharts() {
    if (typeof window.uPlot !== "function") return;
    var css = getComputedStyle(document.documentElement);
    var color = function (name) { return css.getPropertyValue(name).trim(); };
    document.querySelectorAll("[data-chart]").forEach(function (box) {
      var source = document.getElementById(box.getAttribute("data-chart"));
      if (!source || box._chart) return;
      var data = JSON.parse(source.textContent);
      // Buckets and labels in the report's timezone (the page's `timezone`, UTC by default).
      var zone = data.timezone && data.timezone !== "UTC" ? data.timezone : "Etc/UTC";
      var stamp = function (ts) {
        try {
          return new Intl.DateTimeFormat("en-GB", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit",
            hour: "2-digit", minute: "2-digit", timeZoneName: "short" }).format(new Date(ts * 1000));
        } catch (error) {
          return new Date(ts * 1000).toISOString().replace("T", " ").slice(0, 16) + " UTC";
        }
      };
      var xs = data.t.map(function (iso) { return Date.parse(iso) / 1000; });
      var accent = color("--accent"), muted = color("--muted"), border = color("--border");
      var axis = { stroke: muted, grid: { stroke: border, width: 1 }, ticks: { stroke: border, width: 1 } };
      // Day and month buckets are counts per period, drawn as bars (a line would suggest values between them);
      // hours as a line. The x range is the buckets' own span, so one bucket never stretches the axis for years.
      var step = { hour: 3600, day: 86400, month: 86400 * 30.44 }[data.granularity] || 86400;
      var asBars = data.granularity !== "hour" && window.uPlot.paths && window.uPlot.paths.bars;
      var first = xs.length ? xs[0] : 0, last = xs.length ? xs[xs.length - 1] : 0;
      var clicks = { label: "Clicks", stroke: accent, width: 2, fill: accent + "22", points: { show: xs.length < 60 } };
      if (asBars) {
        clicks = { label: "Clicks", stroke: accent, width: 1, fill: accent + "99", points: { show: false },
                   paths: window.uPlot.paths.bars({ size: [0.7, 48], align: 1 }) };
      }
      var options = {
        width: box.clientWidth, height: 260,
        scales: {
          x: { time: true, range: function () { return asBars ? [first, last + step] : (first === last ? [first - step, last + step] : [first, last]); } },
          y: { range: function (u, min, max) { return [0, Math.max(4, Math.ceil(max * 1.15))]; } }
        },
        series: [
          { value: function (u, ts) { return ts == null ? "" : stamp(ts); } },
          clicks,
          { label: "Unique", stroke: muted, width: 1.5, dash: [5, 4], points: { show: asBars || xs.length < 60 } }
        ],
        axes: [Object.assign({}, axis), Object.assign({ size: 48 }, axis)],
        legend: { live: true },
        cursor: { drag: { x: false, y: false } }
      };
      options.tzDate = function (ts) { return window.uPlot.tzDate(new Date(ts * 1000), zone); };
      var columns = [xs, data.clicks, data.unique];
      if (data.views) {  // a bio page's analytics: its views beside the clicks on its blocks
        options.series.push({ label: "Page views", stroke: color("--text"), width: 1.5, points: { show: xs.length < 60 } });
        columns.push(data.views);
      }
      box._chart = new window.uPlot(options, columns, box);
      box.setAttribute("data-drawn-as", asBars ? "bars" : "line");
      if (window.ResizeObserver) {
        new ResizeObserver(function () { box._chart.setSize({ width: box.clientWidth, height: 260 }); }).observe(box);
      }
    });
  }
  if (document.readyState === "complete") { drawCharts(); } else { window.addEventListener("load", drawCharts); }

  // "Show all" on a breakdown card: the expanded card replaces it; focus goes to its first new row.
  document.addEventListener("htmx:after:settle", function () {
    var card = document.querySelector(".breakdown-expanded[data-focus-row]");
    if (!card) return;
    var row = card.querySelector(".bars li:nth-child(" + card.getAttribute("data-focus-row") + ") a.bar-label");
    (row || card.querySelector("h2")).focus();
    card.removeAttribute("data-focus-row");
  });
  // The range form: the browser's own timezone is the picker's first suggestion when none was chosen yet.
  document.querySelectorAll("select[data-browser-timezone]").forEach(function (select) {
    var zone;
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (error) { zone = null; }
    if (!zone || select.value !== "UTC") return;
    var known = Array.prototype.some.call(select.options, function (option) { return option.value === zone; });
    if (!known) select.add(new Option(zone + " (this browser)", zone), 1);
  });

  // A form's errors (templates/_error_summary.html): the summary at the top takes the focus, so the reloaded page
  // says at once what went wrong; its links move the focus to the field itself, not only the scroll position.
  var summary = document.querySelector("[data-error-summary]");
  if (summary) {
    summary.focus();
    summary.addEventListener("click", function (event) {
      var link = event.target.closest("a[href^='#']");
      var field = link && document.getElementById(link.getAttribute("href").slice(1));
      if (!field) return;
      event.preventDefault();
      for (var open = field.closest("details"); open; open = open.parentElement.closest("details")) open.open = true;
      field.focus();
      field.scrollIntoView({ block: "center" });
    });
  }

  // After a move (mask.dashboard.views.bio.move_block) the address ends in #move-up-<block>: focus that button
  // again, or its sibling when the block reached an end and the button is disabled.
  var again = /^#move-(up|down)-([\w-]+)$/.exec(window.location.hash);
  if (again) {
    var button = document.getElementById("move-" + again[1] + "-" + again[2]);
    var other = document.getElementById("move-" + (again[1] === "up" ? "down" : "up") + "-" + again[2]);
    var target = button && !button.disabled ? button : other;
    if (target && !target.disabled) target.focus();
  }

  // The bio page preview follows the page form as it is typed in: the form is posted (a moment after the last
  // key) to the preview address, into the preview's frame; nothing is saved until "Save page".
  document.querySelectorAll("form[data-live-preview]").forEach(function (form) {
    var timer = null;
    function refresh() {
      var action = form.getAttribute("action"), target = form.getAttribute("target");
      form.setAttribute("action", form.getAttribute("data-live-preview"));
      form.setAttribute("target", form.getAttribute("data-preview-frame"));
      HTMLFormElement.prototype.submit.call(form);
      form.setAttribute("action", action);
      if (target === null) { form.removeAttribute("target"); } else { form.setAttribute("target", target); }
    }
    function later() { clearTimeout(timer); timer = setTimeout(refresh, 350); }
    form.addEventListener("input", later);
    form.addEventListener("change", later);
  });

  // Section tabs that scroll sideways (the side navigation on a phone, segmented filters): the current one in view.
  document.querySelectorAll(".sidenav, .segmented").forEach(function (strip) {
    var current = strip.querySelector("[aria-current]");
    if (!current || strip.scrollWidth <= strip.clientWidth) return;
    var left = current.getBoundingClientRect().left - strip.getBoundingClientRect().left + strip.scrollLeft;
    strip.scrollLeft = Math.max(0, left - (strip.clientWidth - current.offsetWidth) / 2);
  });

  document.addEventListener("focusin", function (event) {
    var input = event.target;
    if (input.hasAttribute && input.hasAttribute("data-select-on-focus")) input.select();
  });
  // QR style: the sample code follows the form's controls before they are saved.
  var qrPreview = document.getElementById("qr-style-preview");
  if (qrPreview) {
    var hint = document.getElementById("qr-style-hint");
    var hintText = hint ? hint.textContent : "";
    var redraw = function (event) {
      if (!event.target.matches || !event.target.matches("[data-qr-preview]")) return;
      var params = new URLSearchParams();
      document.querySelectorAll("[data-qr-preview]").forEach(function (input) { params.set(input.name, input.value); });
      qrPreview.src = qrPreview.getAttribute("data-base") + "?" + params.toString();
    };
    qrPreview.addEventListener("error", function () {
      if (hint) hint.textContent = "These colours would make an unreadable code: choose a darker foreground or a lighter background.";
    });
    qrPreview.addEventListener("load", function () { if (hint) hint.textContent = hintText; });
    document.addEventListener("input", redraw);
    document.addEventListener("change", redraw);
  }
})();
