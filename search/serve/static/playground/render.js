/* aisle playground: DOM builders. Merchant data is hostile: every string goes in as a text node
   (document.createTextNode / textContent), never as markup, and a link is set only when its URL is
   http(s). Nothing here talks to the server (playground.js does). */
"use strict";
(function () {
  function el(tag, attrs) {
    var node = document.createElement(tag);
    var a = attrs || {};
    Object.keys(a).forEach(function (k) {
      var v = a[k];
      if (v === null || v === undefined || v === false) return;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = String(v);
      else if (k === "href") { var u = safeUrl(v); if (u) node.setAttribute("href", u); }
      else if (k.indexOf("on") === 0) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : String(v));
    });
    for (var i = 2; i < arguments.length; i++) add(node, arguments[i]);
    return node;
  }

  function add(node, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) { child.forEach(function (c) { add(node, c); }); return; }
    node.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }

  function safeUrl(value) {
    try {
      var u = new URL(String(value), window.location.href);
      return (u.protocol === "http:" || u.protocol === "https:") ? u.href : null;
    } catch (e) { return null; }
  }

  function fractionDigits(currency) {
    try {
      return new Intl.NumberFormat("en", { style: "currency", currency: currency })
        .resolvedOptions().maximumFractionDigits;
    } catch (e) { return 2; }
  }

  /* Money is integer minor units + ISO 4217: 3400 USD is $34.00, 3400 JPY is ¥3,400. */
  function money(m) {
    if (!m || typeof m.amount !== "number") return "no price";
    var major = m.amount / Math.pow(10, fractionDigits(m.currency));
    try {
      return new Intl.NumberFormat(undefined, { style: "currency", currency: m.currency }).format(major);
    } catch (e) { return major.toFixed(2) + " " + m.currency; }
  }

  /* Highlighted text from the server marks the query's words as [[word]] (plain text); each mark becomes a
     <mark> element holding a text node. An unmatched bracket stays as text. */
  function marked(text) {
    var out = [];
    var re = /\[\[(.+?)\]\]/g;
    var at = 0, m;
    var s = String(text);
    while ((m = re.exec(s)) !== null) {
      if (m.index > at) out.push(s.slice(at, m.index));
      out.push(el("mark", { text: m[1] }));
      at = re.lastIndex;
    }
    if (at < s.length) out.push(s.slice(at));
    return out;
  }

  function clip(text, n) {
    var s = String(text || "");
    return s.length > n ? s.slice(0, n).replace(/\s+\S*$/, "") + " …" : s;
  }

  function chip(label, value, source, extra) {
    return el("span", { class: "chip " + (extra || "") + (source ? " src-" + source : ""),
                        title: source ? "from the " + source : null },
      label ? el("b", { text: label + " " }) : null, value,
      source ? el("small", { class: "src", text: source }) : null);
  }

  function priceText(p) {
    if (!p) return "";
    var cur = p.currency || "";
    var fmt = function (v) { return cur ? money({ amount: v, currency: cur }) : String(v / 100); };
    if (p.min != null && p.max != null) return fmt(p.min) + " – " + fmt(p.max);
    if (p.max != null) return "≤ " + fmt(p.max);
    if (p.min != null) return "≥ " + fmt(p.min);
    return cur;
  }

  /* The reading of the query as chips: the text, each constraint with where it came from (the query,
     or a filter picked here), the destination, corrections, colours, synonyms, notes. */
  function interpretation(it, picked) {
    var out = [];
    var f = it.filters || {};
    var from = function (key, value) { return picked(key, value) ? "facet" : "query"; };
    out.push(chip("text", it.text ? "“" + it.text + "”" : "(none)", null, "text"));
    Object.keys(f.attributes || {}).forEach(function (k) {
      f.attributes[k].forEach(function (v) { out.push(chip(k, v, from(k, v))); });
    });
    Object.keys(f.exclude || {}).forEach(function (k) {
      f.exclude[k].forEach(function (v) { out.push(chip("not " + k, v, "query", "exclude")); });
    });
    ["vendor", "product_type", "merchant", "platform"].forEach(function (k) {
      (f[k] || []).forEach(function (v) { out.push(chip(k.replace("_", " "), v, from(k, v))); });
    });
    if (f.price) out.push(chip("price", priceText(f.price), from("price", f.price)));
    if (f.available_only) out.push(chip("in stock", "only", from("availability", true)));
    out.push(chip("ship to", it.country, it.country_source));
    if (it.sort) out.push(chip("sort", it.sort, "query"));
    Object.keys(it.corrected || {}).forEach(function (k) {
      out.push(chip("corrected", k + " → " + it.corrected[k], null, "corrected"));
    });
    (it.colors || []).forEach(function (c) {
      out.push(chip("colour", c.word + " = " + c.family + (c.values && c.values.length ?
        " (" + c.values.length + " values)" : ""), null, "color"));
    });
    (it.expanded || []).forEach(function (w) { out.push(chip("also", w, null, "expanded")); });
    // the languages the words were read in: shown when one besides English (English is always read)
    if ((it.languages || []).some(function (l) { return l !== "en"; })) {
      out.push(chip("read in", it.languages.join(" + "), null, "languages"));
    }
    Object.keys(it.preferences || {}).forEach(function (k) {
      out.push(chip("prefers " + k, (it.preferences[k] || []).join(", "), "context", "pref"));
    });
    (it.notes || []).forEach(function (n) { out.push(chip("note", n, null, "note")); });
    return out;
  }

  function options(variant) {
    var o = variant.options || {};
    return Object.keys(o).map(function (k) { return chip(k, o[k], null, "opt"); });
  }

  function reasons(list, cls) {
    if (!list || !list.length) return null;
    return el("ul", { class: cls }, list.map(function (r) { return el("li", { text: r.replace(/_/g, " ") }); }));
  }

  /* One result: the product, the chosen variant and its options, the price, whether it can be bought
     now (and why not), the checkout link, and the buttons for the live re-check and the explanation. */
  function resultCard(r, actions) {
    var v = r.variant || {};
    var buy = r.buy || {};
    var match = r.match || { exact: true, unmet: [] };
    var card = el("article", { class: "result" + (buy.eligible ? " eligible" : " blocked"),
                               "data-doc-id": r.doc_id, "data-variant-id": v.id });
    var hl = r._highlight || null;
    var shown = hl && hl.title ? marked(hl.title) : r.title;
    var title = el("h3", { class: "title" });
    var link = safeUrl(r.url);
    add(title, link ? el("a", { href: link, target: "_blank", rel: "noopener noreferrer" }, shown) : shown);
    add(card, [
      title,
      el("div", { class: "meta" }, el("span", { class: "merchant", text: (r.merchant || {}).name }), " · ",
         el("span", { text: r.platform }), r.vendor ? [" · ", el("span", { text: r.vendor })] : null,
         el("span", { class: "score", text: "score " + Number(r.score).toFixed(3) })),
      el("div", { class: "variant" }, el("span", { class: "price", text: money(v.price) }), " ",
         el("span", { class: "vtitle", text: v.title }), " ", options(v)),
      hl && hl.description && hl.description.indexOf("[[") >= 0 ?
        el("p", { class: "desc" }, marked(clip(hl.description, 260))) : null,
      el("div", { class: "buy" },
         el("span", { class: "badge " + (buy.eligible ? "ok" : "no"), text: buy.eligible ? "buyable" : "not buyable" }),
         match.exact ? null : el("span", { class: "badge near", text: "near: " + (match.unmet || []).join(", ") }),
         v.available ? null : el("span", { class: "badge no", text: "out of stock" }),
         buy.checked_at ? el("span", { class: "muted", text: " checked " + buy.checked_at }) : null),
      reasons(buy.reasons, "reasons"), reasons(buy.notes, "notes"),
      el("div", { class: "actions" },
         buy.checkout_url && safeUrl(buy.checkout_url) ? el("a", { class: "checkout", href: buy.checkout_url,
           target: "_blank", rel: "noopener noreferrer", text: "Checkout link" }) : null,
         el("button", { type: "button", class: "recheck", onclick: function () { actions.recheck(r, card); },
                        text: "Re-check live" }),
         el("button", { type: "button", class: "explain", onclick: function () { actions.explain(r, card); },
                        text: "Explain" })),
      el("div", { class: "check-out", hidden: true }),
      el("div", { class: "explain-out", hidden: true })]);
    return card;
  }

  /* The answer of POST /v1/checkout/check for one item. */
  function checkResult(resp) {
    var it = (resp.items || [])[0] || {};
    var co = (resp.checkouts || [])[0] || {};
    return el("div", { class: "checked " + (it.eligible ? "ok" : "no") },
      el("b", { text: it.eligible ? "Live: buyable" : "Live: not buyable" }), " ",
      el("span", { class: "live-price", text: money(it.price) }),
      it.price_changed ? el("span", { class: "badge near", text: "price changed from " + money(it.indexed_price) })
                       : null,
      el("span", { class: "muted", text: " read " + (it.checked_at || "") }),
      reasons(it.reasons, "reasons"), reasons(it.notes, "notes"),
      co.checkout_url && safeUrl(co.checkout_url) ? el("a", { class: "checkout", href: co.checkout_url,
        target: "_blank", rel: "noopener noreferrer", text: "Live checkout link" }) : null);
  }

  /* An explanation as a definition list; nested values are shown as JSON text. */
  function explanation(r, explain) {
    var rows = [["variant", (r.variant || {}).title + " (" + (r.variant || {}).id + ")"]];
    if (!explain) {  /* the explanation has its own scores and constraints */
      rows.push(["score", Number(r.score).toFixed(4)]);
      rows.push(["match", (r.match || {}).exact === false ? "near (" + (r.match.unmet || []).join(", ") + ")"
                                                          : "exact"]);
    }
    Object.keys(explain || {}).forEach(function (k) {
      var v = explain[k];
      var shown = v === null ? "—" : Array.isArray(v) ? (v.length ? v.join(", ") : "—")
        : typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toFixed(4))
        : typeof v === "object" ? JSON.stringify(v) : String(v);
      rows.push([k.replace(/_/g, " "), shown]);
    });
    if (!explain) rows.push(["explain", "this server gives no per-result explanation (score and match only)"]);
    return el("dl", { class: "explain" }, rows.map(function (row) {
      return [el("dt", { text: row[0] }), el("dd", { text: row[1] })];
    }));
  }

  /* Facet groups; a click on a value calls pick(name, entry). */
  function facets(groups, pick) {
    return Object.keys(groups || {}).filter(function (k) { return (groups[k] || []).length; }).map(function (name) {
      return el("section", { class: "facet", "data-facet": name }, el("h4", { text: name }),
        groups[name].map(function (entry) {
          var label = entry.label || entry.name || (name === "price" ? priceText(entry) || entry.value
                                                                      : entry.value);
          var selectable = !(name === "availability" && entry.value !== "available");
          return el("button", { type: "button", class: "facet-value", "data-value": String(entry.value),
                                disabled: !selectable, title: selectable ? null : "no filter selects these",
                                onclick: function () { pick(name, entry); } },
                    el("span", { text: String(label) }), el("small", { text: " " + entry.count }));
        }));
    });
  }

  window.AisleRender = { el: el, add: add, marked: marked, money: money, safeUrl: safeUrl, chip: chip,
                         priceText: priceText,
                         interpretation: interpretation, resultCard: resultCard, checkResult: checkResult,
                         explanation: explanation, facets: facets };
})();
