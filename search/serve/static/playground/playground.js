/* aisle playground: the form, the API calls and the page state. It asks the same public API an agent
   asks (POST /v1/search, POST /v1/checkout/check) and reads /openapi.json once to see which optional
   request fields (facets, sort, explain) this server offers. Rendering is in render.js (text only). */
"use strict";
(function () {
  var R = window.AisleRender;
  var MODES = ["bm25", "dense", "hybrid"];
  var FACETS = ["color", "size", "material", "vendor", "merchant", "platform", "price", "availability"];
  var ATTRIBUTE_FACETS = { color: 1, size: 1, material: 1 };
  var $ = function (id) { return document.getElementById(id); };
  var state = { filters: {}, picked: [], features: {}, last: null, explained: {} };

  function token() { return window.sessionStorage.getItem("aisle-token") || ""; }

  /* One API call; resolves with the JSON body of a 2xx answer (or of a status in ``accept``), else rejects
     with the error envelope's code and message. */
  function api(method, path, body, accept) {
    var headers = { "Accept": "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (token()) headers["Authorization"] = "Bearer " + token();
    return fetch(path, { method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body),
                         credentials: "omit", cache: "no-store" })
      .then(function (resp) {
        return resp.json().catch(function () { return {}; }).then(function (data) {
          if (resp.ok || (accept || []).indexOf(resp.status) >= 0) return data;
          if (resp.status === 401) $("token-box").hidden = false;
          var e = (data && data.error) || {};
          throw new Error((e.code || ("http " + resp.status)) + ": " + (e.message || resp.statusText));
        });
      });
  }

  function showError(err) {
    var box = $("error");
    box.hidden = !err;
    box.textContent = err ? String(err.message || err) : "";
  }

  /* Which optional SearchRequest fields this server accepts (older servers refuse unknown fields). */
  function detectFeatures() {
    return api("GET", "/openapi.json").then(function (spec) {
      var props = (((spec.components || {}).schemas || {}).SearchRequest || {}).properties || {};
      Object.keys(props).forEach(function (k) { state.features[k] = props[k]; });
      var sort = props.sort;
      var values = sort && (sort["enum"] || ((sort.anyOf || []).filter(function (s) { return s["enum"]; })[0] ||
                                              {})["enum"]);
      if (values && values.length) {
        var select = $("sort");
        values.forEach(function (v) { select.appendChild(R.el("option", { value: v, text: v.replace(/_/g, " ") })); });
        $("sort-label").hidden = false;
      }
    }).catch(function () { /* the page still searches without the optional fields */ });
  }

  function request(mode, extra) {
    var body = { query: $("q").value, mode: mode, limit: 10, include_near: $("match").value === "near",
                 context: { country: $("country").value.trim() || "US" } };
    if (Object.keys(state.filters).length) body.filters = state.filters;
    if (state.features.facets && mode === $("mode").value) body.facets = FACETS;
    if (state.features.sort && $("sort").value) body.sort = $("sort").value;
    if (state.features.highlight) body.highlight = true;
    Object.keys(extra || {}).forEach(function (k) { body[k] = extra[k]; });
    return body;
  }

  function search() {
    showError(null);
    var compare = $("compare").checked;
    var modes = compare ? MODES : [$("mode").value];
    var main = $("mode").value;
    if (compare && modes.indexOf(main) < 0) modes.push(main);
    saveUrl();
    $("results").setAttribute("aria-busy", "true");
    return Promise.all(modes.map(function (m) { return api("POST", "/v1/search", request(m)); }))
      .then(function (answers) {
        var byMode = {};
        modes.forEach(function (m, i) { byMode[m] = answers[i]; });
        state.last = { byMode: byMode, main: main, compare: compare };
        state.explained = {};
        render();
      })
      .catch(showError)
      .then(function () { $("results").removeAttribute("aria-busy"); });
  }

  function render() {
    var last = state.last;
    var main = last.byMode[last.main];
    var chips = $("interpreted");
    chips.replaceChildren.apply(chips, R.interpretation(main.interpreted, isPicked));
    renderPicked();
    renderFacets(main.facets);
    var results = $("results");
    var columns = last.compare ? MODES : [last.main];
    results.className = last.compare ? "columns" : "";
    results.replaceChildren.apply(results, columns.map(function (m) { return column(m, last.byMode[m], last.compare); }));
    $("notice").textContent = main.content_notice || "";
    document.body.setAttribute("data-state", "results");
  }

  function column(mode, answer, titled) {
    var list = answer.results || [];
    var head = R.el("div", { class: "col-head" }, titled ? R.el("h2", { text: mode }) : null,
      R.el("span", { class: "muted count", text: list.length + " result" + (list.length === 1 ? "" : "s") +
                     (answer.next_cursor ? " (more)" : "") + " · " + Number(answer.took_ms).toFixed(1) + " ms" }));
    var cards = list.map(function (r) { return R.resultCard(r, { recheck: recheck, explain: function (res, card) {
      explain(res, card, mode); } }); });
    if (!list.length) cards = [R.el("p", { class: "empty", text: "No exact match. Try “strict + near”." })];
    return R.el("section", { class: "column", "data-mode": mode }, head, cards);
  }

  function renderFacets(groups) {
    var box = $("facets");
    var nodes = groups ? R.facets(groups, pickFacet) : [];
    box.hidden = !nodes.length;
    box.replaceChildren.apply(box, nodes);
  }

  /* A clicked facet value becomes the filter that selects exactly its matches. */
  function pickFacet(name, entry) {
    var f = state.filters;
    var value = entry.id !== undefined ? entry.id : entry.value;
    if (ATTRIBUTE_FACETS[name]) { f.attributes = f.attributes || {}; f.attributes[name] = [String(value)]; }
    else if (name === "vendor" || name === "merchant" || name === "platform") f[name] = [String(value)];
    else if (name === "price") {
      f.price = {};
      if (entry.min != null) f.price.min = entry.min;
      if (entry.max != null) f.price.max = entry.max;
      if (entry.currency) f.price.currency = entry.currency;
    } else if (name === "availability") f.available_only = true;
    state.picked = state.picked.filter(function (p) { return p.name !== name; });
    state.picked.push({ name: name, value: value, label: entry.label || (name === "price" ? R.priceText(entry) ||
                                                                          entry.value : entry.value) });
    return search();
  }

  function unpick(name) {
    var f = state.filters;
    if (ATTRIBUTE_FACETS[name]) { delete (f.attributes || {})[name]; }
    else if (name === "availability") delete f.available_only;
    else delete f[name];
    if (f.attributes && !Object.keys(f.attributes).length) delete f.attributes;
    state.picked = state.picked.filter(function (p) { return p.name !== name; });
    return search();
  }

  function isPicked(key, value) {
    return state.picked.some(function (p) {
      return p.name === key && (key === "price" || key === "availability" ||
                                String(p.value).toLowerCase() === String(value).toLowerCase());
    });
  }

  function renderPicked() {
    var box = $("active");
    box.replaceChildren.apply(box, state.picked.map(function (p) {
      return R.el("button", { type: "button", class: "chip picked", title: "remove this filter",
                              onclick: function () { unpick(p.name); } },
                  R.el("b", { text: p.name + " " }), String(p.label), " ×");
    }));
  }

  function recheck(r, card) {
    var out = card.querySelector(".check-out");
    out.hidden = false;
    out.replaceChildren(R.el("span", { class: "muted", text: "asking the merchant…" }));
    var body = { items: [{ variant_id: r.variant.id, doc_id: r.doc_id, quantity: 1 }],
                 country: $("country").value.trim() || "US" };
    return api("POST", "/v1/checkout/check", body)
      .then(function (resp) { out.replaceChildren(R.checkResult(resp)); })
      .catch(function (e) { out.replaceChildren(R.el("span", { class: "error", text: String(e.message || e) })); });
  }

  /* Explanations on demand: the same search again with explain=true when the server offers it. */
  function explain(r, card, mode) {
    var out = card.querySelector(".explain-out");
    if (!out.hidden) { out.hidden = true; return Promise.resolve(); }
    out.hidden = false;
    var show = function (answer) {
      var hit = ((answer && answer.results) || []).filter(function (x) { return x.doc_id === r.doc_id; })[0];
      out.replaceChildren(R.explanation(hit || r, hit ? hit.explain : null));
    };
    if (!state.features.explain) { show(null); return Promise.resolve(); }
    if (state.explained[mode]) { show(state.explained[mode]); return Promise.resolve(); }
    out.replaceChildren(R.el("span", { class: "muted", text: "explaining…" }));
    return api("POST", "/v1/search", request(mode, { explain: true }))
      .then(function (answer) { state.explained[mode] = answer; show(answer); })
      .catch(function (e) { out.replaceChildren(R.el("span", { class: "error", text: String(e.message || e) })); });
  }

  function saveUrl() {
    var p = new URLSearchParams({ q: $("q").value, country: $("country").value, mode: $("mode").value,
                                  match: $("match").value });
    if ($("compare").checked) p.set("compare", "1");
    window.history.replaceState(null, "", "?" + p.toString());
  }

  function loadUrl() {
    var p = new URLSearchParams(window.location.search);
    ["q", "country", "mode", "match"].forEach(function (k) { if (p.get(k)) $(k).value = p.get(k); });
    $("compare").checked = p.get("compare") === "1";
    return p.get("q");
  }

  /* The snapshot line; while the server warms up (503 warming: the model is loading) it says so and asks
     again every second (searches are answered meanwhile, the first one waiting for the model). */
  function health() {
    api("GET", "/v1/health", undefined, [503]).then(function (h) {
      var s = h.snapshot || {};
      $("snapshot").textContent = "snapshot " + (s.version || "none") + " · " + s.products + " products · " +
        s.merchants + " merchants" + (h.status && h.status !== "ok" ? " · " + h.status + "…" : "");
      if (h.status === "warming") window.setTimeout(health, 1000);
    }).catch(function () { /* shown on the first search */ });
  }

  $("token").value = token();
  $("token").addEventListener("change", function () {
    window.sessionStorage.setItem("aisle-token", $("token").value.trim());
    detectFeatures().then(health);
  });
  $("search-form").addEventListener("submit", function (ev) { ev.preventDefault(); search(); });
  ["mode", "match", "compare", "sort"].forEach(function (id) {
    $(id).addEventListener("change", function () { if (state.last) search(); });
  });
  var ready = detectFeatures().then(function () {
    health();
    document.body.setAttribute("data-ready", "1");
    if (loadUrl()) return search();
  });
  window.aislePlayground = { state: state, search: search, render: render, ready: ready };
})();
