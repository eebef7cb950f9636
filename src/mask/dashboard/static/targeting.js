// The targeting page: rows added, removed and moved in place, the inputs of a condition's type shown as it changes,
// each rule's sentence and the weights' sum kept live, the social preview card drawn as it is typed. Without this
// file every button posts the form and the server redraws it the same way.
(function () {
  "use strict";

  // Time zone: without a choice yet (UTC by default), take the browser's and show the page in it.
  var zone = document.querySelector("[data-zone]");
  if (zone && zone.hasAttribute("data-zone-guessed") && window.Intl) {
    var guess = Intl.DateTimeFormat().resolvedOptions().timeZone;
    var known = Array.prototype.some.call(zone.options, function (option) { return option.value === guess; });
    document.cookie = "mask_tz=" + (known ? guess : "UTC") + "; path=/app; max-age=31536000; samesite=lax";
    if (known && guess !== zone.value) { window.location.reload(); return; }
  }
  if (zone) {
    zone.addEventListener("change", function () {
      document.cookie = "mask_tz=" + zone.value + "; path=/app; max-age=31536000; samesite=lax";
    });
  }

  var summary = document.getElementById("error-summary");
  if (summary && document.activeElement !== summary) summary.focus();

  // Names, ids and button values carry each row's position (rules-2-c-0-type): renumber after every change.
  function renumber(form) {
    var attributes = ["name", "id", "for", "aria-describedby", "value", "aria-label"];
    function rewrite(element, pattern, replace) {
      attributes.forEach(function (attribute) {
        var value = element.getAttribute(attribute);
        if (value === null) return;
        if (attribute === "value" && !(element.tagName === "BUTTON" && element.name === "op")) return;
        element.setAttribute(attribute, value.replace(pattern, replace));
      });
    }
    form.querySelectorAll("[data-rule]").forEach(function (rule, r) {
      rule.querySelectorAll("*").forEach(function (element) {
        rewrite(element, /rules-(\d+|__R__)-/g, "rules-" + r + "-");
        rewrite(element, /(add-cond|up-rule|down-rule|remove-rule)-(\d+|__R__)/g, "$1-" + r);
        rewrite(element, /remove-cond-(\d+|__R__)-/g, "remove-cond-" + r + "-");
        rewrite(element, /of rule (\d+|__R__|)$/, "of rule " + (r + 1));
      });
      var number = rule.querySelector("[data-rule-number]");
      if (number) number.textContent = String(r + 1);
      rule.querySelectorAll("[data-cond]").forEach(function (cond, c) {
        cond.querySelectorAll("*").forEach(function (element) {
          rewrite(element, /-c-(\d+|__C__)-/g, "-c-" + c + "-");
          rewrite(element, /(remove-cond-\d+)-(\d+|__C__)/g, "$1-" + c);
          rewrite(element, /Remove condition (\d+|__C__|) of/, "Remove condition " + (c + 1) + " of");
        });
      });
      updateSentence(rule);
    });
    form.querySelectorAll("[data-variant]").forEach(function (variant, v) {
      variant.querySelectorAll("*").forEach(function (element) {
        rewrite(element, /variants-(\d+|__V__)-/g, "variants-" + v + "-");
        rewrite(element, /remove-variant-(\d+|__V__)/g, "remove-variant-" + v);
      });
      var name = variant.querySelector("[data-variant-name]");
      if (name) name.textContent = "ABCDE".charAt(v);
    });
    limits(form);
  }

  function limits(form) {
    var addRule = form.querySelector("[data-op=add-rule]");
    if (addRule) addRule.disabled = form.querySelectorAll("[data-rule]").length >= +form.getAttribute("data-max-rules");
    form.querySelectorAll("[data-rule]").forEach(function (rule) {
      var add = rule.querySelector("[data-op=add-cond]");
      if (add) add.disabled = rule.querySelectorAll("[data-cond]").length >= +form.getAttribute("data-max-conditions");
    });
    var addVariant = form.querySelector("[data-op=add-variant]");
    if (addVariant) {
      addVariant.disabled = form.querySelectorAll("[data-variant]").length >= +form.getAttribute("data-max-variants");
    }
  }

  function clone(id) {
    return document.getElementById(id).content.firstElementChild.cloneNode(true);
  }

  function showInputs(cond) {
    var type = cond.querySelector("[data-cond-type]").value;
    cond.querySelectorAll("[data-types]").forEach(function (group) {
      group.hidden = group.getAttribute("data-types").split(" ").indexOf(type) < 0;
      // Only the shown inputs are sent (a form has at most so many fields).
      group.querySelectorAll("input, select").forEach(function (input) { input.disabled = group.hidden; });
    });
  }

  function said(cond, kind) {
    var input = cond.querySelector("[data-kind=" + kind + "]");
    if (!input || !input.value) return "…";
    if (input.tagName === "SELECT") {
      var option = input.options[input.selectedIndex];
      return option.getAttribute("data-say") || option.text;
    }
    return kind === "time" ? input.value.replace("T", " ") : input.value;
  }

  function updateSentence(rule) {
    var parts = Array.prototype.map.call(rule.querySelectorAll("[data-cond]"), function (cond) {
      var select = cond.querySelector("[data-cond-type]");
      var phrase = select.options[select.selectedIndex].getAttribute("data-phrase") || "…";
      if (select.value === "query_param" && said(cond, "qvalue") === "…") phrase = "the address has the parameter {qname}";
      return phrase.replace(/\{(\w+)\}/g, function (_, kind) { return said(cond, kind); });
    });
    var url = rule.querySelector("[data-rule-url]");
    var sentence = rule.querySelector("[data-sentence]");
    if (sentence) sentence.textContent = "If " + (parts.join(" and ") || "…") + " → " + ((url && url.value) || "…");
  }

  function updateSum(form) {
    var total = 0;
    form.querySelectorAll("[data-weight]").forEach(function (input) {
      var value = parseInt(input.value, 10);
      if (!isNaN(value)) total += value;
    });
    var output = form.querySelector("[data-weight-sum]");
    if (!output) return;
    output.textContent = "Total: " + total + " %" + (total === 100 ? "" : " (must be 100 %)");
    output.className = total === 100 ? "sum-ok" : "sum-bad";
  }

  function focusFirst(element) {
    var target = element && element.querySelector("input:not([type=hidden]):not([hidden]), select");
    if (target) target.focus();
  }

  document.querySelectorAll("[data-rules-form], [data-variants-form]").forEach(function (form) {
    form.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-op]");
      if (!button || !form.contains(button)) return;
      var op = button.getAttribute("data-op");
      var rule = button.closest("[data-rule]");
      var rules = form.querySelector("[data-rules]");
      var variants = form.querySelector("[data-variants]");
      event.preventDefault();
      if (op === "add-rule") {
        var added = clone("tpl-rule");
        rules.appendChild(added);
        renumber(form);
        added.querySelector("[data-rule-url]").focus();
      } else if (op === "remove-rule") {
        var next = rule.nextElementSibling || rule.previousElementSibling;
        rule.remove();
        renumber(form);
        (next ? next.querySelector("[data-op=remove-rule]") : form.querySelector("[data-op=add-rule]")).focus();
      } else if (op === "up-rule" || op === "down-rule") {
        var other = op === "up-rule" ? rule.previousElementSibling : rule.nextElementSibling;
        if (!other) return;
        rules.insertBefore(rule, op === "up-rule" ? other : other.nextElementSibling);
        renumber(form);
        rule.querySelector("[data-op=" + op + "]").focus();
      } else if (op === "add-cond") {
        var cond = clone("tpl-cond");
        rule.querySelector("[data-conds]").appendChild(cond);
        renumber(form);
        cond.querySelector("[data-cond-type]").focus();
      } else if (op === "remove-cond") {
        button.closest("[data-cond]").remove();
        renumber(form);
        rule.querySelector("[data-op=add-cond]").focus();
      } else if (op === "add-variant") {
        var variant = clone("tpl-variant");
        variants.appendChild(variant);
        renumber(form);
        focusFirst(variant);
        updateSum(form);
      } else if (op === "remove-variant") {
        button.closest("[data-variant]").remove();
        renumber(form);
        updateSum(form);
        form.querySelector("[data-op=add-variant]").focus();
      }
    });
    // A select typed into with the keyboard says "input" at once and "change" only on leaving: both redraw.
    function changed(event) {
      var cond = event.target.closest("[data-cond]");
      if (cond && event.target.hasAttribute("data-cond-type")) showInputs(cond);
      var rule = event.target.closest("[data-rule]");
      if (rule) updateSentence(rule);
      if (event.target.hasAttribute("data-weight")) updateSum(form);
    }
    form.addEventListener("input", changed);
    form.addEventListener("change", changed);
    limits(form);
  });

  // Promote: the confirmation dialog (app.js, data-confirm) stands for the server's confirmation page.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!event.defaultPrevented && form.hasAttribute && form.hasAttribute("data-promote")) {
      form.querySelector("input[name=confirmed]").value = "1";
    }
  });

  // The preview card follows the fields.
  var preview = document.querySelector("[data-preview-form]");
  if (preview) {
    preview.addEventListener("input", function () {
      var title = preview.querySelector("[data-preview=title]").value;
      var description = preview.querySelector("[data-preview=description]").value;
      var image = preview.querySelector("[data-preview=image]").value;
      var card = document.querySelector(".preview-card");
      if (title) card.querySelector("[data-preview-title]").textContent = title;
      card.querySelector("[data-preview-description]").textContent = description;
      card.querySelector("[data-preview-image]").textContent = image ? "Image: " + image : "No image";
    });
  }
})();
