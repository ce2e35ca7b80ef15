"""Built-in country names → ISO 3166-1 alpha-2, for reading "shipped to Canada" / "nach Österreich".

Public entry points: :func:`country_names`: ``{lower-case name: alpha-2}`` with English names, the
common local names (es/fr/de/pt/it and the country's own language) and unambiguous short forms
(``usa``, ``uk``, ``uae``). Demonyms (``canadian`` → CA) are in :func:`demonyms`; the query parser
accepts them only after "I'm / I am / we're", because "canadian maple syrup" states an origin, not
where the buyer is.

Names that are ordinary words (``jordan``, ``turkey``, ``china``) are kept: the parser reads a country
only after a shipping/location cue ("ships to", "I'm in", "in", "nach", "envío a"...), never a bare
word. ``georgia`` is left out (a US state as often as a country) and so is ``chili`` (French for
Chile, but "au chili" is mostly about the pepper).
"""

from __future__ import annotations

from functools import cache

# alpha-2: names separated by "|" (all lower case, accents as written locally; "the" never included).
_TABLE = """
AD:andorra
AE:united arab emirates|uae|u.a.e|emirates|dubai|abu dhabi|emiratos árabes unidos|émirats arabes unis
AE:vereinigte arabische emirate
AF:afghanistan
AG:antigua and barbuda|antigua
AL:albania|albanie|albanien
AM:armenia|arménie|armenien
AO:angola
AR:argentina|argentine|argentinien
AT:austria|österreich|oesterreich|autriche|áustria
AU:australia|australie|australien|austrália
AZ:azerbaijan
BA:bosnia and herzegovina|bosnia|bosnien
BB:barbados
BD:bangladesh
BE:belgium|belgique|belgië|belgien|bélgica|belgio
BG:bulgaria|bulgarie|bulgarien
BH:bahrain
BN:brunei
BO:bolivia|bolivie
BR:brazil|brasil|brésil|brasilien|brasile
BS:bahamas
BT:bhutan
BW:botswana
BY:belarus
BZ:belize
CA:canada|kanada|canadá
CH:switzerland|schweiz|suisse|svizzera|suiza|suíça
CI:ivory coast|côte d'ivoire|cote d'ivoire
CL:chile
CM:cameroon|cameroun
CN:china|mainland china|chine|prc
CO:colombia|colombie|kolumbien
CR:costa rica
CU:cuba
CY:cyprus|chypre|zypern|chipre
CZ:czech republic|czechia|tschechien|république tchèque|república checa
DE:germany|deutschland|allemagne|alemania|alemanha|germania
DK:denmark|danmark|dänemark|danemark|dinamarca|danimarca
DO:dominican republic|república dominicana
DZ:algeria|algérie|algerien|argelia
EC:ecuador|équateur
EE:estonia|estonie|estland
EG:egypt|égypte|ägypten|egipto|egito
ES:spain|españa|espana|espagne|spanien|espanha|spagna
ET:ethiopia
FI:finland|suomi|finlande|finnland|finlandia|finlândia
FJ:fiji
FR:france|frankreich|francia|frança
GB:united kingdom|uk|u.k|great britain|britain|england|scotland|wales|northern ireland|reino unido|royaume-uni
GB:royaume uni|großbritannien|grossbritannien|vereinigtes königreich|regno unito|inglaterra|angleterre
GE:sakartvelo|republic of georgia
GH:ghana
GR:greece|grèce|griechenland|grecia|grécia
GT:guatemala
HK:hong kong
HN:honduras
HR:croatia|hrvatska|croatie|kroatien|croacia
HU:hungary|magyarország|hongrie|ungarn|hungría
ID:indonesia|indonésie|indonesien
IE:ireland|éire|irlande|irland|irlanda
IL:israel|israël
IN:india|bharat|inde|indien|índia
IQ:iraq
IS:iceland|ísland|islande|island|islandia
IT:italy|italia|italie|italien|itália
JM:jamaica|jamaïque
JO:jordan
JP:japan|nippon|japon|japón|japão|giappone
KE:kenya|quênia
KH:cambodia|cambodge
KR:south korea|korea|republic of korea|corée du sud|südkorea|corea del sur|coreia do sul
KW:kuwait|koweït
KZ:kazakhstan
LA:laos
LB:lebanon|liban|libanon|líbano
LI:liechtenstein
LK:sri lanka
LT:lithuania|lituanie|litauen|lituania
LU:luxembourg|luxemburg|luxemburgo
LV:latvia|lettonie|lettland|letonia
MA:morocco|maroc|marokko|marruecos|marrocos
MC:monaco|mónaco
MD:moldova|moldavia
ME:montenegro
MK:north macedonia|macedonia
MM:myanmar|burma
MN:mongolia
MO:macau|macao
MT:malta|malte
MU:mauritius
MV:maldives
MX:mexico|méxico|mexique|mexiko
MY:malaysia|malaisie|malasia|malásia
NA:namibia
NG:nigeria
NI:nicaragua
NL:netherlands|holland|nederland|pays-bas|pays bas|niederlande|países bajos|paises bajos|holanda|paesi bassi
NO:norway|norge|norvège|norwegen|noruega|norvegia
NP:nepal
NZ:new zealand|nz|aotearoa|nouvelle-zélande|neuseeland|nueva zelanda|nova zelândia
OM:oman
PA:panama|panamá
PE:peru|perú|pérou
PH:philippines|the philippines|filipinas|philippinen|pilipinas
PK:pakistan|paquistán|paquistão
PL:poland|polska|pologne|polen|polonia|polônia
PR:puerto rico
PT:portugal|portogallo
PY:paraguay
QA:qatar|katar
RO:romania|românia|roumanie|rumänien|rumania|romênia
RS:serbia|srbija|serbie|serbien
RU:russia|russian federation|russie|russland|rusia|rússia
RW:rwanda
SA:saudi arabia|saudi|ksa|arabie saoudite|saudi-arabien|arabia saudita
SE:sweden|sverige|suède|schweden|suecia|suécia|svezia
SG:singapore|singapour|singapur|cingapura
SI:slovenia|slovenija|slovénie|slowenien|eslovenia
SK:slovakia|slovensko|slovaquie|slowakei|eslovaquia
SN:senegal|sénégal
SV:el salvador
TH:thailand|thaïlande|tailandia|tailândia
TN:tunisia|tunisie|tunesien|túnez
TR:turkey|türkiye|turkiye|turquie|türkei|turquía|turquia
TT:trinidad and tobago|trinidad
TW:taiwan|taïwan
TZ:tanzania
UA:ukraine|україна|ucrania|ucrânia
UG:uganda
US:united states|united states of america|usa|u.s.a|u.s|us|america|the states|estados unidos|eeuu|ee.uu|ee. uu
US:eua|états-unis|etats-unis|états unis|vereinigte staaten|stati uniti
UY:uruguay
UZ:uzbekistan
VE:venezuela
VN:vietnam|viet nam|việt nam|viêt nam
ZA:south africa|rsa|afrique du sud|südafrika|sudáfrica|áfrica do sul
ZM:zambia
ZW:zimbabwe
"""

_DEMONYMS = """
AE:emirati
AR:argentinian|argentine
AT:austrian
AU:australian|aussie
BE:belgian
BR:brazilian
CA:canadian
CH:swiss
CL:chilean
CN:chinese
CO:colombian
DE:german
DK:danish
ES:spanish
FI:finnish
FR:french
GB:british|english|scottish|welsh
GR:greek
IE:irish
IN:indian
IT:italian
JP:japanese
KR:korean
MX:mexican
MY:malaysian
NL:dutch
NO:norwegian
NZ:kiwi
PH:filipino|filipina
PK:pakistani
PL:polish
PT:portuguese
RO:romanian
SE:swedish
SG:singaporean
TH:thai
US:american
VN:vietnamese
ZA:south african
"""


# Every officially assigned ISO 3166-1 alpha-2 code (249): a two-letter value outside it is no country.
ISO_ALPHA2: frozenset[str] = frozenset("""
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR
GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP
KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT
MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW
SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG
UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
""".split())


def _parse(table: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in table.strip().splitlines():
        code, names = line.split(":", 1)
        for name in names.split("|"):
            out.setdefault(name.strip(), code.strip())
    return out


@cache
def country_names() -> dict[str, str]:
    """``{lower-case country name or alias: ISO alpha-2}`` (see module docstring)."""
    return _parse(_TABLE)


@cache
def demonyms() -> dict[str, str]:
    """``{lower-case demonym: ISO alpha-2}``, used only after "I'm / I am / we're"."""
    return _parse(_DEMONYMS)


def country_code(value: str) -> str | None:
    """A country as a buyer writes it → ISO alpha-2: a two-letter code ("de" → DE; "UK" → GB) or a name
    from :func:`country_names` ("Germany", "the United Kingdom"); None when unknown.

    The request ``context.country`` and a destination named in the query are read by the same table, so
    "UK" means GB in both. A two-letter value must be an assigned ISO 3166-1 code (:data:`ISO_ALPHA2`):
    ``ZZ``, ``ÜS`` or ``U\\x00`` is None, never a country.
    """
    v = " ".join((value or "").strip().lower().split())
    v = v.removeprefix("the ").strip(" .")
    if len(v) == 2 and v.isascii() and v.isalpha():
        code = "GB" if v == "uk" else v.upper()
        return code if code in ISO_ALPHA2 else None
    return country_names().get(v)
