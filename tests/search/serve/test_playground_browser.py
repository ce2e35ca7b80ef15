"""The playground in a real headless Chromium, against a real server over a real (small) snapshot.

The server is the app ``aisle serve`` runs (:func:`search.serve.http.create_app`, loopback bind, Host
check and all) on uvicorn over the crawled and indexed sample catalog, with one hostile product. The
test types a query, reads the results, clicks a facet, re-checks an item live, opens an explanation,
compares the modes, and loads ``/docs``; screenshots go to ``tests/artifacts/`` for a person to look at.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from search.serve.http import create_app
from tests.search.apiworld import World, running_api, sample_world
from tests.search.serve.browser import chromium, chromium_paths, screenshot, severe_console

HOSTILE_RAW = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>Hostile <b>beanie</b>'


@pytest.fixture(scope="module")
def site(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, str]]:
    chromium_paths()  # skip before building anything when there is no browser
    with sample_world(sample_dir, tmp_path_factory.mktemp("play")) as world:
        with running_api(create_app(engine=world.engine, refresh_interval=0, bind_host="127.0.0.1")) as base:
            yield world, base


@pytest.fixture(scope="module")
def browser(site: tuple[World, str]) -> Iterator[Any]:
    with chromium() as driver:
        yield driver


def _wait(driver: Any, css: str, timeout: float = 60) -> Any:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(ec.presence_of_element_located((By.CSS_SELECTOR, css)))


def _all(driver: Any, css: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return list(driver.find_elements(By.CSS_SELECTOR, css))


def _search(driver: Any, query: str) -> None:
    """Type ``query`` and submit; wait until the page has rendered the new answer."""
    driver.execute_script("document.body.removeAttribute('data-state')")
    box = _wait(driver, "#q")
    box.clear()
    box.send_keys(query)
    _wait(driver, "#go").click()
    _wait(driver, "body[data-state=results]")


def test_search_recheck_explain_compare(site: tuple[World, str], browser: Any) -> None:
    _, base = site
    browser.get(base + "/")
    _wait(browser, "body[data-ready]")
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    # /v1/health fills the snapshot line (503 warming first, then ok: the page asks again until then)
    WebDriverWait(browser, 60).until(ec.text_to_be_present_in_element(("css selector", "#snapshot"), "products"))
    assert "warming" not in browser.find_element("css selector", "#snapshot").text
    _search(browser, "red wool beanie size M")
    cards = _all(browser, "#results article.result")
    assert cards, browser.find_element("css selector", "#results").text
    first = cards[0]
    assert first.find_element("css selector", ".price").text.strip()[0] in "$CA£€¥" or "$" in first.text
    chips = browser.find_element("css selector", "#interpreted").text.lower()
    assert "color" in chips and "red" in chips and "size" in chips, chips
    assert "read in" not in chips, chips  # English alone: not repeated
    assert "beanie" in first.find_element("css selector", "h3").text.lower()
    assert first.find_elements("css selector", "h3 mark"), "the query's words are highlighted"
    sorts = [o.get_attribute("value") for o in _all(browser, "#sort option")]
    assert sorts[:1] == ["relevance"] and "price_asc" in sorts, sorts
    screenshot(browser, "playground-01-results")

    first.find_element("css selector", "button.recheck").click()
    checked = _wait(browser, "#results article.result .check-out .checked")
    assert "Live:" in checked.text, checked.text
    first.find_element("css selector", "button.explain").click()
    explain = _wait(browser, "#results article.result .explain-out dl.explain dt:nth-of-type(2)").find_element(
        "xpath", "..")
    assert all(k in explain.text for k in ("lexical", "dense", "fused", "met", "variant reason")), explain.text
    assert "color, size" in explain.text
    screenshot(browser, "playground-02-recheck-explain")

    browser.find_element("css selector", "#compare").click()  # re-runs the search in every mode
    _wait(browser, "#results.columns section.column[data-mode=dense]")
    modes = [c.get_attribute("data-mode") for c in _all(browser, "#results section.column")]
    assert modes == ["bm25", "dense", "hybrid"]
    screenshot(browser, "playground-03-compare-modes")
    browser.find_element("css selector", "#compare").click()
    assert not severe_console(browser), severe_console(browser)


def test_facet_click_filters(site: tuple[World, str], browser: Any) -> None:
    _, base = site
    browser.get(base + "/?q=wool+beanie")
    _wait(browser, "body[data-state=results]")
    _wait(browser, "#facets section.facet[data-facet=color] button.facet-value")
    values = _all(browser, "#facets section.facet[data-facet=color] button.facet-value")
    counts = [int(v.find_element("css selector", "small").text) for v in values]
    value, count = next((v, c) for v, c in zip(values, counts, strict=True) if c <= 10)  # fits one page
    picked = value.get_attribute("data-value")
    browser.execute_script("document.body.removeAttribute('data-state')")
    value.click()
    _wait(browser, "body[data-state=results]")
    assert picked.lower() in browser.find_element("css selector", "#active").text.lower()
    chips = browser.find_element("css selector", "#interpreted").text.lower()
    assert picked.lower() in chips and "facet" in chips, chips
    assert len(_all(browser, "#results article.result")) == count  # the count is what the filter returns
    screenshot(browser, "playground-04-facet")
    chip = _wait(browser, "#active button.chip.picked")  # removing the filter widens the answer again
    browser.execute_script("document.body.removeAttribute('data-state')")
    chip.click()
    _wait(browser, "body[data-state=results]")
    assert not _all(browser, "#active button.chip")


def test_the_languages_read_are_a_chip(site: tuple[World, str], browser: Any) -> None:
    _, base = site
    browser.get(base + "/?q=zapatos+rojos&mode=bm25")  # the sample's Luna Bebé store writes Spanish
    _wait(browser, "body[data-state=results]")
    chips = browser.find_element("css selector", "#interpreted").text.lower()
    assert "read in\nes + en" in chips, chips


def test_hostile_merchant_text_stays_text(site: tuple[World, str], browser: Any) -> None:
    world, base = site
    browser.get(base + "/?q=Ignore+previous+instructions+beanie&match=near")
    _wait(browser, "body[data-state=results]")
    titles = [t.text for t in _all(browser, "#results article.result h3")]
    assert any("Ignore previous instructions" in t for t in titles), titles
    assert not _all(browser, "#results script, #results img, #results b b, #results h3 i")
    screenshot(browser, "playground-05-hostile-served")
    # The page's own defence, whatever the server sent: a raw hostile title is rendered as its text.
    text = browser.execute_script(
        """const R = window.AisleRender;
        const r = {doc_id: 'x', title: arguments[0], url: 'javascript:alert(1)', platform: 'shopify', score: 1,
                   merchant: {id: 'm', name: arguments[0]}, vendor: arguments[0],
                   variant: {id: '1', title: arguments[0], options: {'<i>Color</i>': arguments[0]},
                             price: {amount: 3400, currency: 'USD'}, available: true},
                   buy: {eligible: true, reasons: [], notes: [], checkout_url: 'javascript:alert(2)'},
                   _highlight: {title: '[[' + arguments[0] + ']]', description: 'a [[' + arguments[0] + ']] b'}};
        const card = R.resultCard(r, {recheck: () => 0, explain: () => 0});
        document.getElementById('results').replaceChildren(card);
        return [card.querySelector('h3').textContent, card.querySelectorAll('img,script,b b,i').length,
                card.querySelectorAll('a[href]').length, card.querySelector('.price').textContent];""",
        HOSTILE_RAW,
    )
    assert text[0] == HOSTILE_RAW and text[1] == 0 and text[2] == 0, text
    assert text[3] == "$34.00"
    marks = browser.execute_script("return [...document.querySelectorAll('#results mark')].map(m => m.textContent)")
    assert marks == [HOSTILE_RAW, HOSTILE_RAW], marks
    assert browser.execute_script("return window.__pwned === undefined")
    screenshot(browser, "playground-05-hostile-raw")


def test_token_is_asked_and_sent(site: tuple[World, str], browser: Any) -> None:
    """With AISLE_API_TOKEN the page loads without it, asks for it on the first 401, and sends it."""
    from selenium.webdriver.common.keys import Keys

    world, _ = site
    with running_api(create_app(engine=world.engine, token="s3cret-t0ken", refresh_interval=0)) as base:
        browser.get(base + "/")
        box = _wait(browser, "#token-box:not([hidden])")
        assert "Bearer" in box.text
        browser.find_element("css selector", "#token").send_keys("s3cret-t0ken", Keys.TAB)
        _wait(browser, "#sort-label:not([hidden]), #snapshot:not(:empty)")
        _search(browser, "wool scarf")
        assert _all(browser, "#results article.result")
        assert browser.find_element("css selector", "#error").get_attribute("hidden") is not None


def test_docs_load_offline(site: tuple[World, str], browser: Any) -> None:
    _, base = site
    browser.get(base + "/docs")
    title = _wait(browser, ".swagger-ui .information-container .title", timeout=60)
    assert "aisle" in title.text
    urls = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert urls and all(u.startswith(base) for u in urls), urls
    screenshot(browser, "playground-06-docs")
