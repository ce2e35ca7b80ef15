"""Colour families: a shade meets its family, in every language the lexicon knows.

Public entry points: :func:`colour_values` (the catalog values a shopper's colour word accepts),
:func:`value_families` / :func:`word_family` (what a value or word denotes) and :func:`family_reading`
(the family echoed in ``interpreted``).

Rules (a demanding shopper's reading, written down because the issue leaves them open):

* **Family words** (``black white grey red pink orange yellow green blue purple brown beige gold silver
  multicolor``) and their translations (``Blau``, ``bleu``, ``azul``, ``verde``, ``negro``, ``赤``...)
  accept every catalog value of the family in *any* language: "green" meets ``Forest Green``,
  ``Olive``, ``Sage``, ``Oliv``, ``Verde Oliva``; "blue" meets ``Cobalt``, ``Navy``, ``Blau``,
  ``Bleu marine`` even when the catalog also has the English ``Blue``.
* **Shade words** ("olive", "navy", "cobalt", "camel") accept that shade in any language ("olive" →
  ``Oliv``, ``Verde Oliva``, ``Olive Green``), not the whole family: asking for olive is not asking
  for mint.
* **Neutrals**: beige, cream, ivory, ecru, oatmeal, sand, stone, taupe, nude, champagne are the
  ``beige`` family; camel, tan, khaki, caramel, cognac are both ``brown`` and ``beige`` (shoppers use
  both words for them). A few shades have two families: teal/turquoise/aqua (blue, green), coral/peach
  (pink, orange), mauve/magenta/fuchsia (pink, purple), burgundy/maroon (red), rose gold (gold, pink).
* **Catalog values**: composite values (``Black/White``, ``Red / White``) meet each family they name;
  multi-word values meet the families of their colour words (``Heather Grey`` → grey, ``Glacier
  Blue`` → blue, ``Matte Black`` → black); German compounds of a colour word (``Dunkelblau``,
  ``Waldgrün``, ``Hellgrau``) meet its family. A value naming no colour word ("Dot Grid", "Set of 3")
  meets no family, so a family constraint never admits it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

from indexer.attributes import canonical_attribute, normalize_value, value_parts
from search.query.lexicon import lexicon

FAMILIES = ("black", "white", "grey", "red", "pink", "orange", "yellow", "green", "blue", "purple", "brown",
            "beige", "gold", "silver", "multicolor")

# shade: families. Lexicon canonicals (search.query.lexicon) and the extra shades below.
_SHADE_FAMILIES = """
black:black|jet:black|onyx:black|ebony:black|charcoal:grey|graphite:grey|anthracite:grey|slate:grey
white:white|ivory:white,beige|off white:white,beige|snow:white|pearl:white|chalk:white|cream:beige,white
grey:grey|silver grey:grey,silver|ash:grey|heather grey:grey|stone:beige,grey|pewter:grey,silver
red:red|crimson:red|scarlet:red|burgundy:red|maroon:red|wine:red|cherry:red|ruby:red|vermilion:red
red:red|brick:red,brown|rust:orange,brown|carmine:red|cardinal:red|oxblood:red
pink:pink|rose:pink|blush:pink|fuchsia:pink,purple|magenta:pink,purple|salmon:pink,orange
coral:pink,orange|peach:orange,pink|rose gold:gold,pink
orange:orange|mustard:yellow|ochre:yellow,brown|apricot:orange|terracotta:orange,brown|tangerine:orange
yellow:yellow|lemon:yellow|saffron:yellow|citron:yellow
green:green|olive:green|sage:green|mint:green|forest green:green|emerald:green|jade:green|lime:green
khaki:green,beige,brown|moss:green|bottle green:green|teal:blue,green|turquoise:blue,green|aqua:blue,green
seafoam:green|pistachio:green|celadon:green|petrol:blue,green
blue:blue|navy:blue|cobalt:blue|royal blue:blue|sky blue:blue|azure:blue|indigo:blue|denim:blue
cyan:blue|sapphire:blue|cerulean:blue|light blue:blue|dark blue:blue|ink:blue|periwinkle:blue,purple
purple:purple|lavender:purple|lilac:purple|violet:purple|plum:purple|mauve:purple,pink|aubergine:purple
brown:brown|chocolate:brown|coffee:brown|mocha:brown|espresso:brown|walnut:brown|cognac:brown
camel:brown,beige|tan:brown,beige|caramel:brown,beige|taupe:beige,grey,brown|bronze:brown,gold
beige:beige|sand:beige|oatmeal:beige|ecru:beige|nude:beige|champagne:beige,gold|natural:beige
gold:gold|copper:orange,brown|silver:silver|multicolor:multicolor|kelly:green|pine:green|cypress:green|meadow:green
granite:grey|shale:grey|fog:grey|mist:grey|asphalt:grey|heather:grey|steel:grey,silver|chrome:silver|alloy:silver
raspberry:pink|peony:pink|strawberry:red|chili:red|pomegranate:red|turmeric:yellow|toast:brown|truffle:brown
macchiato:brown|lagoon:blue|lapis:blue|midnight:blue|iris:purple|thistle:purple|wash:blue
"""

# Forms of shades the lexicon does not list (lower case; accent-less spellings included).
_EXTRA_FORMS = """
black:jet black|negro azabache|tiefschwarz|schwarz matt|黒|黒い|ブラック|blk|pure black|solid black
kelly:kelly|kelly green|verde kelly
pine:pine|pine green|dried pine
steel:steel|light steel|stainless steel|stainless
wash:dark wash|light wash|mid wash|medium wash|stone wash|stonewash
jet:jet|azabache|jais
onyx:onyx|ónix|onix
ebony:ebony|ébano|ébène|ebenholz
graphite:graphite|grafito|graphit|grafite
anthracite:anthracite|antracita|anthrazit|antracite
slate:slate|pizarra|ardoise|schiefer|ardósia
white:off-white|blanco roto|blanc cassé|gebrochenes weiß|白|白い|ホワイト|wht
off white:off white|off-white
snow:snow|snow white
pearl:pearl|perla|perle|pérola
chalk:chalk|tiza|craie|kreide|giz
ecru:ecru|écru|crudo|naturweiß|cru
grey:gris chiné|gris jaspeado|grau meliert|mescla|グレー|灰色
heather grey:heather grey|heather gray|grey marl|grey melange|gris chiné|grau meliert
ash:ash|ash grey
pewter:pewter|peltre|étain|zinn|estanho
red:赤|赤い|レッド|红|紅
crimson:crimson|carmesí|carmin|cramoisi|karmesin|carmesim|cremisi
scarlet:scarlet|escarlata|écarlate|scharlachrot|escarlate|scarlatto
ruby:ruby|rubí|rubis|rubin|rubi
vermilion:vermilion|bermellón|vermillon|zinnoberrot|vermelhão
brick:brick|brick red|ladrillo|brique|ziegelrot|tijolo
carmine:carmine|carmín
cardinal:cardinal|cardinal red
oxblood:oxblood|sang de boeuf
pink:ピンク|桃色|rosa claro|rose pâle|hellrosa|rosa bebé|baby pink|light pink|hot pink|rosa chicle
rose:rose|rosé
blush:blush|rubor|rosa palo|rose poudré|altrosa|rosa antigo|rosa cipria
orange:オレンジ|橙|orangé
apricot:apricot|albaricoque|abricot|aprikose|damasco|albicocca
tangerine:tangerine|mandarina|mandarine|tangerina
terracotta:terracotta|terracota|terre cuite|terrakotta
ochre:ochre|ocher|ocre|ocker
yellow:黄|黄色|黄色い|イエロー
lemon:lemon|limón|citron|zitronengelb|limão
saffron:saffron|azafrán|safran|açafrão|zafferano
citron:citron|citrine
green:緑|緑色|グリーン|verde claro|vert clair|hellgrün|verde escuro|dunkelgrün
forest green:forest green|forest|hunter green|dark green|verde bosque|vert forêt|vert sapin|waldgrün|tannengrün
forest green:verde floresta|verde bosco
bottle green:bottle green|verde botella|vert bouteille|flaschengrün|verde garrafa
olive:olive green|verde oliva|verde-oliva|vert olive|oliv|olivgrün|olivgruen|oliva
sage:sage|sage green|salvia|vert sauge|sauge|salbei|salbeigrün|verde salvia|sálvia
mint:mint green|verde menta|vert menthe|mintgrün|minze
emerald:emerald|esmeralda|émeraude|smaragd|smaragdgrün|smeraldo
jade:jade|jadegrün|giada
moss:moss|moss green|musgo|moosgrün|muschio
teal:teal|verde azulado|bleu canard|petrolgrün|verde-petróleo|petróleo
aqua:aqua|aguamarina|aquamarine|aigue-marine|acqua
seafoam:seafoam|sea foam|espuma de mar
pistachio:pistachio|pistacho|pistache|pistazie|pistacchio
celadon:celadon|celadón|céladon|seladon
petrol:petrol|petrolblau|pétrole|bleu pétrole
blue:青|青い|ブルー|藍|アオ
navy:navy blue|bleu marine|marine|azul marino|azul-marino|azul marinho|azul-marinho|marineblau|dunkelblau
navy:blu navy|french navy|midnight navy|true navy|midnight blue
cobalt:cobalt|cobalt blue|cobalto|azul cobalto|bleu cobalt|kobalt|kobaltblau|blu cobalto
royal blue:royal blue|royal|azul rey|azul real|bleu roi|königsblau|koenigsblau|azul royal|blu reale
sky blue:sky blue|sky|celeste|azul celeste|azul cielo|bleu ciel|ciel|himmelblau|azul-celeste|azzurro
light blue:light blue|baby blue|pale blue|azul claro|bleu clair|hellblau|azul bebé|azul bebê|azul-claro
dark blue:dark blue|azul oscuro|azul escuro|bleu foncé|azul-oscuro|blu scuro
azure:azure|azur|azurblau
denim:denim|denim blue|vaquero|jeansblau|bleu jean
cyan:cyan|cian|ciano
sapphire:sapphire|zafiro|saphir|safira|zaffiro
cerulean:cerulean|cerúleo|céruléen
ink:ink|encre
periwinkle:periwinkle|pervenche|vinca
purple:紫|紫色|パープル|mauve clair|violett|lila oscuro
violet:violett|viola
mauve:mauve|malva
aubergine:aubergine|berenjena|berinjela|melanzana
brown:茶色|茶|ブラウン|marrón claro|marron clair|hellbraun|dunkelbraun|marrom escuro
chocolate:chocolate|chocolat|schokolade|schokobraun|cioccolato|chocolate brown
cognac:cognac|coñac|conhaque|konjak
walnut:walnut|nogal|noyer|nussbaum|nogueira|noce
camel:camel|camello|chameau|kamel|camelo|cammello|camel color
tan:tan|bronceado
caramel:caramel|caramelo|karamell|caramello
taupe:taupe|topo|gris topo|gris taupe
beige:ベージュ|beige claro|sable clair
oatmeal:oatmeal|oat|avena|flocon d'avoine|haferflocken|aveia
nude:nude|desnudo
gold:金|金色|ゴールド|dorado|dorada|dourado|dourada|doré|dorée|golden
silver:銀|銀色|シルバー|plateado|plateada|prateado|prateada|argenté|argentée|argento|silbern
multicolor:multicolore|multicolores|mehrfarbig|bunt|colorido|multicolorido|varios colores|マルチカラー
"""

# German colour words that end a compound ("dunkelblau", "waldgrün"), with the prefixes that make one.
_DE_TAILS = ("schwarz", "weiß", "weiss", "grau", "rot", "rosa", "pink", "orange", "gelb", "grün", "gruen", "blau",
             "lila", "violett", "braun", "beige", "gold", "silber", "türkis")
_DE_HEADS = ("dunkel", "hell", "mittel", "tief", "zart", "pastell", "wald", "tannen", "oliv", "moos", "marine",
             "himmel", "königs", "koenigs", "nacht", "eis", "stahl", "schiefer", "kirsch", "wein", "feuer", "signal",
             "rost", "sand", "creme", "perl", "altrosa", "alt", "mint", "flaschen", "gras", "apfel", "smaragd",
             "petrol", "taupe", "anthrazit", "bordeaux", "khaki", "ocker", "korall", "lachs", "sonnen", "zitronen",
             "schoko", "mais", "senf")
_TOKEN = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True)
class ColourReading:
    """How one colour word was read: its shade, its family (``None`` for an unknown word), and whether
    the word names the whole family ("green") or one shade of it ("olive")."""

    word: str
    shade: str | None
    family: str | None
    whole_family: bool


def _pairs(text: str) -> list[tuple[str, str]]:
    """``shade:families`` items, ``|``-separated, several per line."""
    out = []
    for item in re.split(r"[|\n]", text):
        key, _, rest = item.strip().partition(":")
        if key:
            out.append((key.strip(), rest.strip()))
    return out


def _forms_table(text: str) -> list[tuple[str, str]]:
    """``shade:form|form`` lines → (shade, form) pairs."""
    out = []
    for line in text.strip().splitlines():
        shade, _, forms = line.partition(":")
        out += [(shade.strip(), f.strip()) for f in forms.split("|") if f.strip()]
    return out


@cache
def _shades() -> tuple[dict[str, tuple[str, ...]], dict[str, str]]:
    """(shade → families, surface form → shade), built once from this module's tables and the lexicon."""
    families: dict[str, tuple[str, ...]] = {}
    for shade, fams in _pairs(_SHADE_FAMILIES):
        families.setdefault(shade, tuple(f for f in fams.split(",") if f))
    forms: dict[str, str] = {}
    for shade, form in _forms_table(_EXTRA_FORMS):
        forms.setdefault(normalize_value(form), shade)
    lx = lexicon()
    for form, canon in {**lx.ambiguous_colours, **lx.plain_colours}.items():
        forms.setdefault(normalize_value(form), canon)
    for shade in families:
        forms.setdefault(shade, shade)
    # a lexicon canonical with no family line (none today) keeps itself as its family only if it is one
    forms = {f: s for f, s in forms.items() if s in families}
    return families, forms


def _lookup(phrase: str) -> str | None:
    _, forms = _shades()
    p = normalize_value(phrase)
    return forms.get(p) or forms.get(p.replace("-", " ")) or forms.get(p.replace(" ", ""))


def _german_compound(token: str) -> str | None:
    for tail in _DE_TAILS:
        if token.endswith(tail) and len(token) > len(tail) + 2 and token[: -len(tail)].rstrip("-") in \
                {h.rstrip("-") for h in _DE_HEADS}:
            return _lookup(tail)
    return None


def _phrase_shades(phrase: str) -> set[str]:
    """Shades one value part names: the whole phrase, else its colour words (bigrams first)."""
    whole = _lookup(phrase)
    if whole:
        return {whole}
    toks = _TOKEN.findall(normalize_value(phrase))
    out: set[str] = set()
    used: set[int] = set()
    for i in range(len(toks) - 1):
        if (s := _lookup(f"{toks[i]} {toks[i + 1]}")) is not None:
            out.add(s)
            used.update((i, i + 1))
    for i, t in enumerate(toks):
        if i not in used and (s := _lookup(t) or _german_compound(t)) is not None:
            out.add(s)
    return out - {"heather"} if len(out) > 1 else out  # "Heather Raspberry": heather is the knit, not the colour


def value_shades(value: str) -> frozenset[str]:
    """Every shade a catalog colour value names (composites part by part)."""
    parts = value_parts(normalize_value(value))
    out: set[str] = set()
    for part in parts[1:] if len(parts) > 1 else parts:
        out |= _phrase_shades(part)
    return frozenset(out)


def value_families(value: str) -> frozenset[str]:
    """Every colour family a catalog value meets ("Black/White" → black, white; "Olive" → green)."""
    fams, _ = _shades()
    return frozenset(f for s in value_shades(value) for f in fams[s])


def word_family(word: str) -> ColourReading:
    """Read a shopper's colour word: its shade and family, and whether it names the whole family."""
    fams, _ = _shades()
    shade = _lookup(word)
    if shade is None:
        found = _phrase_shades(word)
        shade = next(iter(found)) if len(found) == 1 else None
        if shade is not None and shade not in FAMILIES:
            # an unknown phrase around one shade ("hot cobalt"): read as that shade
            return ColourReading(word, shade, fams[shade][0], False)
    if shade is None:
        return ColourReading(word, None, None, False)
    return ColourReading(word, shade, fams[shade][0], shade in FAMILIES)


class _Index:
    """Catalog colour values by shade and by family (built once per vocabulary of values)."""

    def __init__(self, values: Iterable[str]) -> None:
        self.by_shade: dict[str, set[str]] = {}
        self.by_family: dict[str, set[str]] = {}
        fams, _ = _shades()
        for v in values:
            for s in value_shades(v):
                self.by_shade.setdefault(s, set()).add(v)
                for f in fams[s]:
                    self.by_family.setdefault(f, set()).add(v)


_CACHE: dict[int, tuple[object, _Index]] = {}
_LOCK = threading.Lock()


def _index(catalog_values: Iterable[str] | Mapping[str, int]) -> _Index:
    hit = _CACHE.get(id(catalog_values))
    if hit is not None and hit[0] is catalog_values:
        return hit[1]
    built = _Index(list(catalog_values))
    if isinstance(catalog_values, (Mapping, frozenset, tuple)):  # immutable-ish holders are worth caching
        with _LOCK:
            if len(_CACHE) >= 8:
                _CACHE.pop(next(iter(_CACHE)))
            _CACHE[id(catalog_values)] = (catalog_values, built)
    return built


def colour_values(word: str, catalog_values: Iterable[str] | Mapping[str, int]) -> set[str]:
    """The catalog colour values (as given) that a shopper's colour ``word`` accepts (rules above).

    ``catalog_values`` is the vocabulary's colour values (a mapping value → count is fine; it is
    indexed once per object). An unknown word returns the values equal to it, normalised.
    """
    reading = word_family(word)
    idx = _index(catalog_values)
    if reading.shade is None:
        low = normalize_value(word)
        return {v for v in idx_values(catalog_values) if normalize_value(v) == low}
    if reading.whole_family:
        return set(idx.by_family.get(reading.shade, ()))
    return set(idx.by_shade.get(reading.shade, ()))


def idx_values(catalog_values: Iterable[str] | Mapping[str, int]) -> Iterable[str]:
    """The values of a catalog holder (the keys of a mapping)."""
    return catalog_values.keys() if isinstance(catalog_values, Mapping) else catalog_values


def family_reading(word: str) -> str | None:
    """The family a colour word belongs to (echoed in ``interpreted``), or None when unknown."""
    return word_family(word).family


@dataclass(frozen=True)
class ColourEcho:
    """One colour word of a request as echoed in ``interpreted.colors``: the family and the catalog values."""

    word: str
    family: str
    values: tuple[str, ...]


def widen_colours(words: Iterable[str], values: Iterable[str],
                  catalog_values: Mapping[str, int] | Iterable[str]) -> tuple[list[str], list[ColourEcho]]:
    """``values`` plus every catalog value each colour word accepts (:func:`colour_values`), and the echo.

    ``words`` are the shopper's colour words (parser spans, or explicit filter values). Unknown words
    add nothing and are not echoed (the parser's or the filter's own values stay).
    """
    out = list(dict.fromkeys(values))
    echo: list[ColourEcho] = []
    for word in dict.fromkeys(words):
        reading = word_family(word)
        if reading.family is None:
            continue
        got = sorted(colour_values(word, catalog_values))
        out += [v for v in got if v not in out]
        family = (reading.shade if reading.whole_family else None) or reading.family
        echo.append(ColourEcho(word=word, family=family, values=tuple(got)))
    return out, echo


def widen_colour_constraint(constraints: Any, parsed: Any, explicit: Any, catalog_values: Mapping[str, Any],
                            fallback_attrs: frozenset[str] | None) -> tuple[Any, list[ColourEcho]]:
    """``constraints`` with the colour constraint widened to the families of its words, and the echo.

    The words are the explicit colour filter values when the request has one, else the parser's colour
    spans as the shopper wrote them. Only variant matching widens: the product-text fallback keeps the
    shopper's own words and their translations (a "Sage Candle" with no colour option is no green).
    """
    from search.filter.constraints import make_attr_constraint

    attrs = list(constraints.attributes)
    at = next((i for i, ac in enumerate(attrs) if ac.canonical == "color"), None)
    if at is None:
        return constraints, []
    explicit_words = [str(v) for k, vals in (explicit.attributes.items() if explicit is not None else ())
                      if canonical_attribute(k) == "color" for v in vals]
    spans = getattr(parsed, "spans", ()) or ()
    words = explicit_words or [str(s[1]) for s in spans if len(s) >= 2 and s[0] == "color"]
    if not words:
        return constraints, []
    ac = attrs[at]
    values, echo = widen_colours(words, sorted(ac.keys), catalog_values)
    wide = make_attr_constraint(ac.label, values, fallback_attrs=fallback_attrs)
    attrs[at] = replace(wide, text_fallback_keys=ac.text_fallback_keys)
    return replace(constraints, attributes=tuple(attrs)), echo
