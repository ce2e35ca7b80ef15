"""The built-in lexicon of query understanding: colours, materials, size words, glue and common words.

One public entry point, :func:`lexicon`, returns a frozen :class:`Lexicon` built once.

Colours: each canonical English colour lists its surface forms in en/es/fr/de/pt/it with gender and
plural forms (``negro/negra/negros/negras``, ``rot/rote/roter/rotes/roten``...) and spelling synonyms
(``grey/gray``). Two classes of colour words:

* *plain* colours (black, red, blue...) are read as a colour wherever they stand as a whole word;
* *ambiguous* colours are also ordinary nouns (orange, cream, olive, mint, coffee, wine, charcoal,
  natural, gold, silver, copper...). They count as a colour only in an explicit colour context:
  "in orange", "orange colour", "colour: orange". Otherwise "face cream", "olive oil", "charcoal
  soap" and "copper water bottle" would become hard colour filters.

Metals (gold, silver, copper, bronze, brass, platinum, rose/white/yellow gold) are read as a
*material* unless such a colour context makes them a colour ("earbuds in gold"); a purity or make
("9 carat gold", "14k gold", "sterling silver", "solid gold", "gold plated") always makes a material.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

# canonical: surface forms ("|"-separated, lower case). Accent-less spellings are listed too, since
# shoppers type them ("marron", "gruen").
_PLAIN_COLOURS = """
black:black|negro|negra|negros|negras|noir|noire|noirs|noires|schwarz|schwarze|schwarzer|schwarzes|schwarzen
black:preto|preta|pretos|pretas|nero|nera|neri|nere
white:white|blanco|blanca|blancos|blancas|blanc|blanche|blancs|blanches|weiß|weiss|weiße|weisse|weißer|weisser
white:weißes|weisses|weißen|weissen|branco|branca|brancos|brancas|bianco|bianca|bianchi|bianche
red:red|rojo|roja|rojos|rojas|rouge|rouges|rot|rote|roter|rotes|roten|vermelho|vermelha|vermelhos|vermelhas
red:rosso|rossa|rossi|rosse
blue:blue|azul|azules|bleu|bleue|bleus|bleues|blau|blaue|blauer|blaues|blauen|azuis|blu
green:green|verde|verdes|vert|verte|verts|vertes|grün|gruen|grüne|gruene|grüner|grünes|grünen|verdi
yellow:yellow|amarillo|amarilla|amarillos|amarillas|jaune|jaunes|gelb|gelbe|gelber|gelbes|gelben|amarelo
yellow:amarela|amarelos|amarelas|giallo|gialla|gialli|gialle
grey:grey|gray|gris|grise|grises|grau|graue|grauer|graues|grauen|cinza|cinzento|cinzenta|grigio|grigia|grigi|grigie
pink:pink|rosado|rosada|rosados|rosadas|rosa|rosé|rosafarben|pinke
purple:purple|morado|morada|morados|moradas|púrpura|violet|violette|violeta|roxo|roxa
brown:brown|marrón|marron|marrones|braun|braune|brauner|braunes|braunen|marrom|castanho|castanha|marrone
beige:beige|bege
navy:navy|navy blue|bleu marine|azul marino|azul-marino|marineblau|azul marinho
burgundy:burgundy|bordeaux|bordô|bordo|burdeos|vinotinto|weinrot
maroon:maroon
teal:teal
turquoise:turquoise|turquesa|türkis|turchese
lavender:lavender|lavanda|lavande
lilac:lilac|lilas|lilás|lila
khaki:khaki|caqui|kaki
magenta:magenta
fuchsia:fuchsia|fucsia
indigo:indigo|índigo
multicolor:multicolor|multicolour|multicolored|multicoloured|multi-color|multi-colour|multicolore|mehrfarbig|colorido
black:negru|neagră|neagra|negri|negre|jet black
white:alb|albă|alba|albi|albe|off white|off-white
red:roșu|rosu|roșie|rosie|roșii|rosii|bright red
blue:albastru|albastră|albastra|albaștri|albastri|light blue|dark blue|baby blue|pale blue
green:dark green|light green
yellow:galben|galbenă|galbena|galbeni
grey:gri|light grey|light gray|dark grey|dark gray|heather grey|heather gray
pink:roz|light pink|baby pink|hot pink|pale pink
purple:mov|violet închis|dark purple|light purple
brown:maro|dark brown|light brown
beige:bej
gold:auriu|aurie|aurii
silver:argintiu|argintie
orange:portocaliu|portocalie|portocalii
camel:camel|camello|chameau
crimson:crimson|carmesí|cramoisi
scarlet:scarlet|escarlata|écarlate|scharlachrot
vermilion:vermilion|vermillon|zinnoberrot
taupe:taupe
ecru:ecru|écru|naturweiß
mauve:mauve|malva
periwinkle:periwinkle
cerulean:cerulean
forest green:forest green|hunter green|bottle green|verde bosque|vert forêt|waldgrün|tannengrün|flaschengrün
royal blue:royal blue|azul rey|bleu roi|königsblau
sky blue:sky blue|azul celeste|bleu ciel|himmelblau
olive:olive green|verde oliva|vert olive|olivgrün
anthracite:anthrazit
"""

_AMBIGUOUS_COLOURS = """
orange:orange|naranja|laranja|arancione
cream:cream|crema|crème|creme
ivory:ivory|marfil|ivoire|elfenbein|marfim|avorio
olive:olive|oliva|olivgrün
mint:mint|menta|menthe|mint green
coffee:coffee|café|chocolate|mocha|espresso
wine:wine|vino|vinho
charcoal:charcoal
natural:natural|naturel|natur
nude:nude
tan:tan
coral:coral|corail|koralle
peach:peach|melocotón|pêche|pfirsich|pêssego
plum:plum|prune|pflaume|ameixa
mustard:mustard|mostaza|moutarde|senf|mostarda
sand:sand|arena|sable|areia|sabbia
rust:rust|óxido|rouille|rost|ferrugem|ruggine
salmon:salmon|salmón|saumon|lachs|salmão|salmone
lime:lime|lima
cherry:cherry|cereza|cerise|kirsche|cereja|ciliegia
sage:sage|sage green
champagne:champagne
stone:stone
gold:gold|golden|dorado|dorada|doré|dorée|gold|golden|goldene|goldener|dourado|dourada|oro|ouro
silver:silver|plateado|plateada|argenté|argentée|silber|silberne|silberner|prateado|prateada|argento|prata|plata
rose gold:rose gold|rosegold|oro rosa|or rose|ouro rosa
copper:copper|cobre|cuivre|kupfer|rame
bronze:bronze|bronce|bronzo
cobalt:cobalt|cobalto|kobalt
jet:jet
onyx:onyx
emerald:emerald|esmeralda|émeraude|smaragd
ruby:ruby|rubí|rubis
sapphire:sapphire|zafiro|saphir
jade:jade
slate:slate
graphite:graphite
anthracite:anthracite|antracita
caramel:caramel|caramelo
cognac:cognac
blush:blush
"""

# English spellings besides each canonical word: a shopper writing English is answered with the catalog's English
# spellings first (see :meth:`Lexicon.is_english`).
ENGLISH_FORMS = frozenset(
    ("gray|navy blue|multicolour|multicolored|multicoloured|multi-color|multi-colour|mint green|sage green|golden|"
     "chocolate|mocha|espresso|woollen|woolen|merino|merino wool|genuine leather|real leather|vegan leather|"
     "pu leather|leatherette|polar fleece|wooden|solid wood|solid oak|tempered glass|ceramics|stainless|aluminum|"
     "925 silver|silver 925|925 sterling silver|gold-plated|gold filled|gold-filled|rosegold").split("|")
)

# Colour words that do not describe the product when followed by these nouns ("green tea", "red wine").
COLOUR_BLOCKING_NEXT = frozenset(
    "tea wine pepper friday noise chocolate cheese seed seeds bean beans bull label forest belt widow "
    "tooth magic card out house carpet head heads list board pearl pearls light lights hair milk".split()
)
# "in soft lilac tones", "shades of blue": a loose preference, never a hard filter.
LOOSE_COLOUR_BEFORE = ("tonos", "tonalidades", "tons", "tones", "shades of", "shade of", "hues of", "nuances de",
                       "toni", "tönen", "töne")
LOOSE_COLOUR_AFTER = ("tones", "tone", "tonos", "tons", "shades", "hues", "ish", "tönen", "töne", "toni")

# canonical material: surface forms. Longer forms win (longest match), so "organic cotton" beats "cotton".
_MATERIALS = """
wool:wool|woollen|woolen|lana|laine|wolle|lã|merino|merino wool|lână
cashmere:cashmere|cachemire|kaschmir|caxemira
organic cotton:organic cotton|algodón orgánico|coton bio|bio-baumwolle|biobaumwolle|algodão orgânico|cotone biologico
cotton:cotton|algodón|algodon|coton|baumwolle|algodão|cotone|bumbac
linen:linen|lino|leinen|linho
silk:silk|seda|soie|seide|seta|mătase|matase
leather:leather|genuine leather|real leather|cuero|cuir|leder|couro|pelle|piele naturală
faux leather:faux leather|vegan leather|pu leather|leatherette|kunstleder|similicuir|cuero sintético
suede:suede|daim|wildleder|camurça|camoscio
denim:denim
polyester:polyester|poliéster
nylon:nylon
velvet:velvet|terciopelo|velours|samt|veludo|velluto
fleece:fleece|polar fleece
satin:satin|cetim
chiffon:chiffon
bamboo:bamboo|bambú|bambou|bambus|bambu
wood:wood|wooden|solid wood|madera|bois|holz|madeira|legno|lemn
oak:oak|solid oak|roble|chêne|eiche|carvalho|rovere
walnut:walnut|nogal|noyer|nussbaum|nogueira|noce
teak:teak|teca|teck
acacia:acacia
rattan:rattan|ratán|rotin
wicker:wicker|mimbre|osier
marble:marble|mármol|marbre|marmor|mármore|marmo
glass:glass|tempered glass|vidrio|verre|glas|vidro|vetro|sticlă
ceramic:ceramic|ceramics|cerámica|céramique|keramik|cerâmica|ceramica|ceramică
porcelain:porcelain|porcelana|porcelaine|porzellan|porcellana
stoneware:stoneware|grès|steinzeug
cast iron:cast iron|hierro fundido|gusseisen|ferro fundido|ghisa
stainless steel:stainless steel|stainless|acero inoxidable|acier inoxydable|edelstahl|aço inox|aço inoxidável
stainless steel:acciaio inox
steel:steel|acero|acier|stahl|aço|acciaio
aluminium:aluminium|aluminum|aluminio|alumínio|alluminio
titanium:titanium|titanio|titane|titânio
brass:brass|latón|laiton|messing|latão|ottone
wrought iron:wrought iron|hierro forjado|fer forgé|schmiedeeisen|ferro forjado
platinum:platinum|platino|platine|platin|platina
sterling silver:sterling silver|925 silver|silver 925|925 sterling silver|plata de ley|plata 925|argent 925
sterling silver:argent massif|sterlingsilber|prata 925|argento 925
solid gold:solid gold|oro macizo|or massif|massivgold|ouro maciço
white gold:white gold|oro blanco|or blanc|weißgold|weissgold|ouro branco
yellow gold:yellow gold|oro amarillo|or jaune|gelbgold|ouro amarelo
gold:gold|oro|ouro
silver:silver|plata|prata|argento|silber
copper:copper|cobre|cuivre|kupfer
bronze:bronze|bronce|bronzo
rose gold:rose gold|rosegold|oro rosa|or rose|ouro rosa
gold plated:gold plated|gold-plated|gold filled|gold-filled|chapado en oro|plaqué or|vergoldet|banhado a ouro
silicone:silicone|silicona|silikon
rubber:rubber|caucho|goma|caoutchouc|gummi|borracha
plastic:plastic|plástico|plastique|kunststoff|plastica
concrete:concrete|hormigón|béton|beton|concreto
canvas:canvas|lona|toile
cork:cork|corcho|liège|kork|cortiça|sughero
resin:resin|resina|résine|harz
jute:jute|yute|juta
hemp:hemp|cáñamo|chanvre|hanf|cânhamo|canapa
alpaca:alpaca|alpaga|alpaka
mohair:mohair
acrylic:acrylic|acrílico|acrylique|acryl
vinyl:vinyl|vinilo|vinyle
"""

# A material also accepts its broader material: the engine's filter may be met by product words, and a
# "9ct Yellow Gold Ring" or a "925 silver" ring must not be lost to "solid gold" / "sterling silver".
MATERIAL_PARENTS: dict[str, tuple[str, ...]] = {
    "organic cotton": ("cotton",), "solid gold": ("gold",), "white gold": ("gold",), "yellow gold": ("gold",),
    "rose gold": ("gold",), "sterling silver": ("925", "silver"), "stainless steel": ("stainless", "steel"),
    "oak": ("wood",), "walnut": ("wood",), "teak": ("wood",), "acacia": ("wood",),
}

# Metals: ambiguous between colour and material (see module docstring).
METALS = frozenset({"gold", "silver", "copper", "bronze", "rose gold"})
# A metal preceded by one of these words is a material ("solid gold", "9ct gold" is matched by pattern).
METAL_MATERIAL_BEFORE = frozenset("solid pure sterling real genuine fine plated filled 925 massive".split())
METAL_MATERIAL_AFTER = frozenset("plated filled plate vermeil".split())

# Words that introduce an option value: "size 7", "talla L", "Größe 42". "ring size 7" is read as "size 7" and
# "ring" stays in the text (it is the product).
SIZE_WORDS = ("us size", "uk size", "eu size", "size", "sizes", "sz", "talla", "taille", "tamaño", "tamano", "tamanho",
              "größe", "grösse", "groesse", "taglia", "maat", "storlek", "misura", "mărime", "marime", "mărimea")
# Size words that are ordinary adjectives: hard only in a size context ("size medium", "in medium", "hoodie, medium").
SIZE_ADJECTIVES = {
    "extra small": "xs", "x-small": "xs", "small": "s", "medium": "m", "large": "l", "x-large": "xl",
    "extra large": "xl", "xx-large": "2xl", "pequeño": "s", "pequeña": "s", "mediano": "m", "mediana": "m",
    "grande": "l", "petit": "s", "petite": "s", "moyen": "m", "moyenne": "m", "klein": "s", "mittel": "m", "groß": "l",
}

# Glue words swallowed together with an extracted phrase ("in XL", "that's in stock", "which ships to").
GLUE_WORDS = frozenset(
    "in en em im that that's thats which and und et y e is are que qui die das der with of for it "
    "also, a an the".split()
)

# English function words and common shop words: a vendor spelled like one of these is matched only when the
# shopper capitalises it away from the start of the query ("a Fellow kettle", "ECHO trimmer").
COMMON_WORDS = frozenset(
    """a about above after again all also an and any are as at axis back bag be been being best big black blue
    bloom boat body bold bright brood but by can care case clean clear coffee cold comfort core cozy craft crown
    day default design direct do does down dream each earth echo eco edge elite ember essential essentials every
    fellow few field fire first flair flex for forest form free fresh from fun general gift gold good grace great
    green happy has have he her here his home honest hot house how i if in into is it its just kind king lab
    life light little live local loja love made magic main make marketplace me modern more most my natural nature
    new nifty no nor not now of off oh ok on once one only or other our out over own paper park peak perfect
    pink plain plus power premium prime pro pure queen real red rise rocket room root route royal same sea shadow
    she shop simple smart so solo some sound spark sport standard star stone store such sun super than that the
    their them then there these they this those through to tower true under united up urban very vision vita
    was we well were what when where which while white who why wild will with wood work world you your zen""".split()
)


def _parse(table: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in table.strip().splitlines():
        canon, forms = line.split(":", 1)
        for form in forms.split("|"):
            out.setdefault(form.strip(), canon.strip())
    return out


@dataclass(frozen=True)
class Lexicon:
    """Surface form → canonical maps of the built-in lexicon (see module docstring)."""

    plain_colours: dict[str, str]
    ambiguous_colours: dict[str, str]
    materials: dict[str, str]

    def colour(self, surface: str) -> str | None:
        """Canonical colour of a surface form (plain or ambiguous), or None."""
        return self.plain_colours.get(surface) or self.ambiguous_colours.get(surface)

    def is_english(self, form: str) -> bool:
        """Is ``form`` an English spelling (a canonical word or one of :data:`ENGLISH_FORMS`)?"""
        canon = self.colour(form) or self.materials.get(form)
        return form == canon or form in ENGLISH_FORMS

    def colour_forms(self, canonical: str) -> tuple[str, ...]:
        """Every surface form of one canonical colour."""
        both = {**self.ambiguous_colours, **self.plain_colours}
        return tuple(f for f, c in both.items() if c == canonical)

    def material_forms(self, canonical: str) -> tuple[str, ...]:
        """Every surface form of one canonical material."""
        return tuple(f for f, c in self.materials.items() if c == canonical)


@cache
def lexicon() -> Lexicon:
    """The built-in lexicon (built once)."""
    plain = _parse(_PLAIN_COLOURS)
    ambiguous = {k: v for k, v in _parse(_AMBIGUOUS_COLOURS).items() if k not in plain}
    return Lexicon(plain_colours=plain, ambiguous_colours=ambiguous, materials=_parse(_MATERIALS))
