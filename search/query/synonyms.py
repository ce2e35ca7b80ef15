"""Synonyms and a bilingual shopping lexicon: query expansion across UK/US English and the catalogs' languages.

Public entry points: :func:`expansions` (the words to add to the ranking text for a query's words) and
:func:`translate_script` (Japanese shopping words → English, before the parser reads the query).

Rules (documented choices):

* Each line of :data:`_GROUPS` is one concept: equivalent phrases in en (US and UK), es, pt, fr, de,
  it, ro. A phrase of the query (whole words, longest first, plural ``s`` folded) that is one member
  adds the others to the *ranking* text only, never to the constraints: "jumper" ranks sweaters,
  "breast pump" ranks the Spanish "extractor de leche", "cortador de relva" ranks "lawn mower". At
  most :data:`MAX_ADDED` words per concept (English first, then the line's order), so that a long
  line does not drown the shopper's own words in the dense embedding.
* **Only where the catalog lacks the shopper's words**: a phrase whose rarest word the catalog names
  often (:data:`EXPAND_BELOW`, in :meth:`search.query.spelling.Speller.frequency` units: a product
  naming it counts 3, a description 1) is not expanded. Translations rescue the queries that find
  nothing in their own words ("breast pump" vs a Spanish store's "extractor de leche", "jumper" vs
  "sweater"); added to a query that already matches, they let a translation outrank the shopper's
  own words ("bergwerk backpack" would rank a Spanish "mochila" over Bergwerk's rucksacks).
* Words already in the query are not added again (word by word, also inside a phrase: "cortador de relva"
  adds "grama" of "cortador de grama"), nor the function words inside a phrase ("de" of "extractor de leche"
  would match every Spanish product); a member of two letters alone ("lã", "té")
  is never matched. Expansions are echoed in ``interpreted.expanded``.
* Japanese (:func:`translate_script`): known words (colours 赤/赤い, ビーニー, 帽子, マグ...) are
  replaced by their English word before parsing, so "赤いビーニー" reads colour red + "beanie".
  Unknown words of other scripts stay in the text (the notes pass says so).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import cache

MAX_ADDED = 10
EXPAND_BELOW = 10  # catalog frequency (search.query.spelling.Speller.frequency) from which a phrase stands alone

# One concept per line (a line ending in "|" goes on): members separated by "|". English first (US, then UK),
# then es, pt, fr, de, it, ro.
_GROUPS = """
sweater|jumper|pullover|suéter|camisola|pulli|maglione|pulover
sneakers|trainers|running shoes|zapatillas|tênis|baskets|turnschuhe|scarpe da ginnastica|adidași
pants|trousers|pantalones|calças|pantalon|pantaloni
flashlight|torch|linterna|lanterna|lampe torche|taschenlampe|torcia
diaper|nappy|pañal|fralda|couche|windel|pannolino|scutec
pacifier|dummy|soother|chupete|chupeta|tétine|schnuller|ciuccio|suzetă
vacuum cleaner|hoover|vacuum|aspiradora|aspirador|aspirateur|staubsauger|aspirapolvere|aspirator
stroller|pushchair|buggy|pram|cochecito|carrinho de bebé|poussette|kinderwagen|passeggino|cărucior
crib|cot|cuna|berço|lit bébé|babybett|culla|pătuț
onesie|babygrow|bodysuit|body de bebé|body bébé|babybody|body neonato
bib|babero|babete|bavoir|lätzchen|bavaglino|bavețică
baby bottle|feeding bottle|biberón|mamadeira|biberon|babyflasche|biberon
breast pump|extractor de leche|sacaleches|bomba tira leite|extrator de leite|tire-lait|milchpumpe|tiralatte
cell phone|mobile phone|smartphone|teléfono móvil|celular|telemóvel|téléphone portable|cellulare|telefon mobil
phone case|mobile case|funda de móvil|funda|capinha|capa de telemóvel|coque|handyhülle|cover telefono|husă
cookie|biscuit|galleta|biscoito|bolacha|biscuit|keks|plätzchen|biscotto|biscuiți
candy|sweets|caramelos|dulces|doces|bonbons|süßigkeiten|caramelle|bomboane
chips|crisps|patatas fritas|batatas fritas|chips|kartoffelchips|patatine
eggplant|aubergine|berenjena|beringela|aubergine|aubergine|melanzana|vânătă
zucchini|courgette|calabacín|abobrinha|courgette|zucchini|zucchina|dovlecel
faucet|tap|grifo|torneira|robinet|wasserhahn|rubinetto|robinet
trash can|bin|rubbish bin|garbage can|cubo de basura|lixeira|caixote do lixo|poubelle|mülleimer|pattumiera|
coș de gunoi
closet|wardrobe|armario|guarda-roupa|roupeiro|armoire|kleiderschrank|armadio|dulap
couch|sofa|settee|sofá|canapé|sofa|divano|canapea
comforter|duvet|quilt|edredón|edredom|couette|bettdecke|piumone|pilotă
flip flops|chanclas|chinelos|tongs|flip-flops|infradito|șlapi
sandals|sandalias|sandálias|sandales|sandalen|sandali|sandale
boots|botas|bottes|stiefel|stivali|cizme|ghete
hiking boots|walking boots|botas de montaña|botas de senderismo|botas de caminhada|chaussures de randonnée|
wanderschuhe|wanderstiefel|scarponi
shoes|zapatos|sapatos|chaussures|schuhe|scarpe|pantofi
slippers|zapatillas de casa|pantuflas|chinelos de quarto|pantoufles|chaussons|hausschuhe|pantofole|papuci
sweatshirt|hoodie|sudadera|moletom|sweat à capuche|kapuzenpullover|felpa|hanorac
t-shirt|tee|tshirt|camiseta|t-shirt|tee-shirt|t-shirt|maglietta|tricou
shirt|camisa|chemise|hemd|camicia|cămașă
dress|vestido|kleid|vestito|abito|rochie
skirt|falda|saia|jupe|gonna|fustă
jacket|chaqueta|jaqueta|casaco|veste|blouson|jacke|giacca|geacă
coat|overcoat|abrigo|casaco|manteau|cappotto|palton
raincoat|rain jacket|impermeable|chubasquero|capa de chuva|imperméable|regenjacke|impermeabile
vest|waistcoat|chaleco|colete|gilet|weste|gilet|vestă
underwear|knickers|ropa interior|roupa interior|sous-vêtements|unterwäsche|intimo|lenjerie
panties|knickers|bragas|calcinhas|culotte|mutandine|chiloți
socks|calcetines|meias|peúgas|chaussettes|socken|calzini|șosete
tights|pantyhose|medias|meia-calça|collants|strumpfhose|collant|dresuri
swimsuit|swimming costume|bathing suit|swimwear|bañador|traje de baño|fato de banho|maiô|maillot de bain|
badeanzug|costume da bagno|costum de baie
beanie|woolly hat|knit hat|toque|gorro|gorro de punto|touca|gorro de lã|bonnet|mütze|strickmütze|berretto|
căciulă
hat|sombrero|chapéu|chapeau|hut|cappello|pălărie
cap|baseball cap|gorra|boné|casquette|kappe|cappellino|șapcă
scarf|bufanda|pañuelo|cachecol|lenço|écharpe|foulard|schal|halstuch|sciarpa|fular|eșarfă
gloves|guantes|luvas|gants|handschuhe|guanti|mănuși
mittens|manoplas|mitenes|moufles|fäustlinge|handschuhe|muffole|mănuși cu un deget
belt|cinturón|cinto|ceinture|gürtel|cintura|curea
handbag|purse|bolso|bolsa|sac à main|handtasche|borsa|geantă
purse|wallet|billfold|cartera|monedero|billetera|carteira|porte-monnaie|portefeuille|geldbörse|portemonnaie|
portafoglio|portofel
backpack|rucksack|mochila|mochila|sac à dos|rucksack|zaino|rucsac
tote bag|shopping bag|shopper|bolsa de tela|sacola|sac cabas|tote bag|einkaufstasche|borsa shopping|sacoșă
suitcase|luggage|maleta|mala|valise|koffer|valigia|valiză
umbrella|brolly|paraguas|guarda-chuva|parapluie|regenschirm|ombrello|umbrelă
sunglasses|gafas de sol|óculos de sol|lunettes de soleil|sonnenbrille|occhiali da sole|ochelari de soare
glasses|spectacles|gafas|óculos|lunettes|brille|occhiali|ochelari
watch|wristwatch|reloj|relógio|montre|armbanduhr|uhr|orologio|ceas
necklace|colar|collier|halskette|kette|collana|colier
earrings|pendientes|aretes|brincos|boucles d'oreilles|ohrringe|orecchini|cercei
bracelet|pulsera|pulseira|bracelet|armband|braccialetto|brățară
ring|anillo|anel|bague|ring|anello|inel
jewelry|jewellery|joyería|joyas|joias|bijoux|schmuck|gioielli|bijuterii
mug|cup|taza|caneca|chávena|tasse|becher|tazza|cană
water bottle|drinking bottle|botella de agua|garrafa de água|gourde|trinkflasche|borraccia|sticlă de apă
thermos|thermos flask|vacuum flask|termo|garrafa térmica|bouteille isotherme|thermos|thermosflasche|
isolierflasche|thermoskanne|termos
lunch box|lunchbox|fiambrera|lonchera|marmita|lancheira|boîte à lunch|lunchbox|brotdose|portapranzo|caserolă
plate|plato|prato|assiette|teller|piatto|farfurie
bowl|cuenco|bol|tigela|bol|schüssel|schale|ciotola|castron
frying pan|skillet|sartén|frigideira|poêle|bratpfanne|pfanne|padella|tigaie
saucepan|cazo|olla|cacerola|panela|casserole|kochtopf|topf|pentola|oală
kettle|hervidor|chaleira|bouilloire|wasserkocher|bollitore|fierbător
coffee maker|coffee machine|cafetera|máquina de café|cafeteira|cafetière|machine à café|kaffeemaschine|
macchina da caffè|espressor
kitchen scale|báscula de cocina|balança de cozinha|balance de cuisine|küchenwaage|bilancia da cucina|cântar
knife|cuchillo|faca|couteau|messer|coltello|cuțit
cutting board|chopping board|tabla de cortar|tábua de corte|planche à découper|schneidebrett|tagliere|tocător
tablecloth|toalha de mesa|nappe|tischdecke|tovaglia|față de masă
towel|toalla|toalha|serviette|handtuch|asciugamano|prosop
bedding|bed linen|ropa de cama|roupa de cama|linge de lit|bettwäsche|biancheria da letto|lenjerie de pat
sheets|bed sheets|sábanas|lençóis|draps|bettlaken|lenzuola|cearșafuri
pillow|cushion|almohada|cojín|almofada|travesseiro|oreiller|coussin|kissen|kopfkissen|cuscino|pernă
blanket|manta|cobija|cobertor|manta|couverture|decke|coperta|pătură
rug|carpet|alfombra|tapete|tapis|teppich|tappeto|covor
curtains|drapes|cortinas|cortinados|rideaux|vorhänge|gardinen|tende|perdele
blind|window blind|roller blind|persiana|estor|estore|rollo|jalousie|tapparella|jaluzea
lamp|lámpara|luminaria|candeeiro|lâmpada|lampe|luminaire|leuchte|lampada|lampă
light bulb|bulb|bombilla|lâmpada|ampoule|glühbirne|lampadina|bec
candle|vela|vela|bougie|kerze|candela|lumânare
vase|jarrón|florero|vaso|jarra|vase|vase|vaso|vază
mirror|espejo|espelho|miroir|spiegel|specchio|oglindă
chair|silla|cadeira|chaise|stuhl|sedia|scaun
table|mesa|mesa|table|tisch|tavolo|masă
desk|escritorio|secretária|escrivaninha|bureau|schreibtisch|scrivania|birou
shelf|bookshelf|estante|estantería|prateleira|étagère|regal|mensola|raft
storage box|caja de almacenaje|caixa de arrumação|boîte de rangement|aufbewahrungsbox|scatola portaoggetti|
cutie de depozitare
bike|bicycle|bicicleta|bicicleta|vélo|bicyclette|fahrrad|bicicletta|bicicletă
bike shed|bicycle shed|bike storage|cobertizo para bicicletas|abrigo para bicicletas|abri vélo|abri à vélos|
abri de vélo|fahrradgarage|fahrradunterstand|rimessa per bici
garden shed|shed|cobertizo|caseta de jardín|abrigo de jardim|casota|abri de jardin|gartenhaus|gerätehaus|
casetta da giardino
lawn mower|lawnmower|mower|cortacésped|cortadora de césped|corta-relva|cortador de relva|cortador de grama|
tondeuse|tondeuse à gazon|rasenmäher|tosaerba|mașină de tuns iarba
hedge trimmer|cortasetos|corta-sebes|taille-haie|heckenschere|tagliasiepi|trimmer pentru gard viu
chainsaw|motosierra|motosserra|tronçonneuse|kettensäge|motosega|drujbă
drill|cordless drill|taladro|berbequim|furadeira|perceuse|bohrmaschine|akkuschrauber|trapano|bormașină
screwdriver|destornillador|chave de fendas|tournevis|schraubendreher|schraubenzieher|cacciavite|șurubelniță
hammer|martillo|martelo|marteau|hammer|martello|ciocan
ladder|escalera|escada|échelle|leiter|scala|scară
garden hose|hose|manguera|mangueira|tuyau d'arrosage|gartenschlauch|tubo da giardino|furtun
watering can|regadera|regador|arrosoir|gießkanne|annaffiatoio|stropitoare
planter|flower pot|maceta|macetero|vaso|pot de fleurs|jardinière|blumentopf|übertopf|vaso per piante|ghiveci
barbecue|bbq|grill|barbacoa|churrasqueira|barbecue|grill|griglia|grătar
tent|tienda de campaña|carpa|tenda|tente|zelt|tenda|cort
sleeping bag|saco de dormir|saco-cama|sac de couchage|schlafsack|sacco a pelo|sac de dormit
headlamp|head torch|frontal|linterna frontal|lanterna de cabeça|lampe frontale|stirnlampe|lampada frontale|
lanternă frontală
trekking poles|walking poles|hiking poles|bastones de senderismo|bastões de caminhada|bâtons de randonnée|
wanderstöcke|bastoncini da trekking|bețe de trekking
dog bed|cama para perro|cama para cão|cama de cachorro|panier pour chien|lit pour chien|hundebett|cuccia|
pat pentru câini
dog collar|collar para perro|coleira|collier pour chien|hundehalsband|collare per cani|zgardă
leash|dog lead|correa|trela|guia|laisse|leine|guinzaglio|lesă
cat litter|arena para gatos|areia para gatos|litière|katzenstreu|lettiera|nisip pentru pisici
toy|juguete|brinquedo|jouet|spielzeug|giocattolo|jucărie
stuffed animal|soft toy|plush|cuddly toy|peluche|bicho de peluche|peluche|kuscheltier|plüschtier|pupazzo|
jucărie de pluș
puzzle|jigsaw|rompecabezas|puzle|quebra-cabeça|puzzle|puzzle|puzzle|puzzle
notebook|cuaderno|libreta|caderno|carnet|cahier|notizbuch|heft|quaderno|caiet
pen|bolígrafo|caneta|stylo|kuli|kugelschreiber|penna|pix
pencil|lápiz|lápis|bleistift|matita|creion
stickers|pegatinas|adesivos|autocollants|aufkleber|sticker|adesivi|autocolante
wrapping paper|gift wrap|papel de regalo|papel de embrulho|papier cadeau|geschenkpapier|carta da regalo|
hârtie de ambalat
gift card|gift voucher|tarjeta regalo|vale-presente|cartão-presente|carte cadeau|gutschein|geschenkgutschein|
buono regalo|card cadou
gift|present|regalo|presente|prenda|cadeau|geschenk|regalo|cadou
soap|jabón|sabonete|savon|seife|sapone|săpun
shampoo|champú|xampu|champô|shampooing|shampoo|shampoo|șampon
moisturizer|moisturiser|face cream|crema hidratante|hidratante|crème hydratante|feuchtigkeitscreme|
crema idratante|cremă hidratantă
perfume|fragrance|cologne|perfume|parfum|parfüm|duft|profumo|parfum
lipstick|pintalabios|barra de labios|batom|rouge à lèvres|lippenstift|rossetto|ruj
makeup|make-up|cosmetics|maquillaje|maquiagem|maquilhagem|maquillage|schminke|trucco|machiaj
toothbrush|cepillo de dientes|escova de dentes|brosse à dents|zahnbürste|spazzolino|periuță de dinți
lubricant|lube|lubricante|lubrificante|lubrifiant|gleitgel|gleitmittel|lubrifiant
razor|maquinilla de afeitar|lâmina de barbear|rasoir|rasierer|rasoio|aparat de ras
hair dryer|hairdryer|secador de pelo|secador de cabelo|sèche-cheveux|haartrockner|föhn|asciugacapelli|
uscător de păr
tea|té|chá|thé|tè|ceai
coffee|café|café|café|kaffee|caffè|cafea
coffee beans|granos de café|grãos de café|café en grains|kaffeebohnen|chicchi di caffè|boabe de cafea
chocolate|chocolate|chocolat|schokolade|cioccolato|ciocolată
honey|miel|mel|miel|honig|miele|miere
olive oil|aceite de oliva|azeite|huile d'olive|olivenöl|olio d'oliva|ulei de măsline
wine|vino|vinho|vin|wein|vino|vin
spices|especias|especiarias|épices|gewürze|spezie|condimente
headphones|earphones|earbuds|auriculares|cascos|fones de ouvido|auscultadores|écouteurs|casque|kopfhörer|
cuffie|auricolari|căști
speaker|bluetooth speaker|altavoz|caixa de som|coluna|enceinte|haut-parleur|lautsprecher|altoparlante|boxă
charger|cargador|carregador|chargeur|ladegerät|caricabatterie|încărcător
cable|cable|cabo|câble|kabel|cavo|cablu
battery|pila|batería|pilha|bateria|batterie|akku|batteria|baterie
keyboard|teclado|teclado|clavier|tastatur|tastiera|tastatură
mouse|ratón|mouse|rato|souris|maus|mouse|mouse
laptop|notebook computer|portátil|ordinateur portable|laptop|portatile|laptop
laptop bag|laptop sleeve|funda para portátil|mala para portátil|housse d'ordinateur|laptoptasche|
custodia per laptop|husă laptop
camera|cámara|câmera|câmara|appareil photo|kamera|fotocamera|aparat foto
bicycle helmet|bike helmet|casco de bicicleta|capacete de bicicleta|casque de vélo|fahrradhelm|casco da bici|
cască de bicicletă
yoga mat|esterilla de yoga|tapete de yoga|tapis de yoga|yogamatte|tappetino yoga|saltea de yoga
dumbbells|weights|mancuernas|halteres|haltères|hanteln|manubri|gantere
car seat|child car seat|silla de coche|cadeira auto|cadeirinha|siège auto|kindersitz|autositz|seggiolino auto|
scaun auto
high chair|trona|cadeira de papa|chaise haute|hochstuhl|seggiolone|scaun de masă
baby carrier|sling|portabebés|mochila portabebés|marsúpio|porte-bébé|babytrage|tragetuch|marsupio|marsupiu
rattle|sonajero|chocalho|hochet|rassel|sonaglio|zornăitoare
pajamas|pyjamas|pijama|pijama|pyjama|schlafanzug|pigiama|pijamale
bathrobe|dressing gown|robe|albornoz|bata|roupão|peignoir|bademantel|accappatoio|halat de baie
apron|delantal|avental|tablier|schürze|grembiule|șorț
leggings|mallas|leggings|legging|leggings|leggings|colanți
jeans|vaqueros|jeans|calça jeans|jean|jeans|jeans|blugi
shorts|pantalones cortos|calções|bermudas|short|shorts|kurze hose|pantaloncini|pantaloni scurți
bra|sujetador|sutiã|soutien|soutien-gorge|bh|reggiseno|sutien
cardigan|chaqueta de punto|rebeca|casaco de malha|strickjacke|cardigan|cardigan
wool|lana|lã|laine|wolle|lana|lână
cotton|algodón|algodão|coton|baumwolle|cotone|bumbac
leather|cuero|piel|couro|pele|cuir|leder|pelle|piele
linen|lino|linho|lin|leinen|lino
silk|seda|seda|soie|seide|seta|mătase
wood|wooden|madera|madeira|bois|holz|legno|lemn
stainless steel|acero inoxidable|aço inoxidável|inox|acier inoxydable|edelstahl|acciaio inox|oțel inoxidabil
ceramic|cerámica|cerâmica|céramique|keramik|ceramica|ceramică
glass|vidrio|cristal|vidro|verre|glas|vetro|sticlă
waterproof|impermeable|à prova de água|impermeável|imperméable|étanche|wasserdicht|impermeabile|impermeabil
handmade|hecho a mano|artesanal|feito à mão|fait main|handgemacht|fatto a mano|lucrat manual
organic|orgánico|ecológico|orgânico|biológico|bio|biologique|biologisch|biologico|organic
kids|children|niños|infantil|crianças|criança|enfants|kinder|bambini|copii
baby|bebé|bebê|bébé|baby|neonato|bebeluș
women|womens|ladies|mujer|mujeres|mulher|femme|femmes|damen|frauen|donna|femei
men|mens|hombre|hombres|homem|homme|hommes|herren|männer|uomo|bărbați
wedding|boda|casamento|mariage|hochzeit|matrimonio|nuntă
birthday|cumpleaños|aniversário|anniversaire|geburtstag|compleanno|zi de naștere
christmas|xmas|navidad|natal|noël|weihnachten|natale|crăciun
funeral|sympathy|funerales|velorio|sepelio|velório|enterro|funérailles|obsèques|beerdigung|trauerfeier|funerale|
înmormântare
coffin|casket|ataúd|féretro|caixão|cercueil|sarg|bara|sicriu
"""


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _key(phrase: str) -> tuple[str, ...]:
    """Comparison key of a phrase: folded words, the last one singular."""
    words = re.findall(r"\w+", _fold(phrase))
    if words:
        last = words[-1]
        if len(last) > 4 and last.endswith("ies"):
            last = last[:-3] + "y"
        elif len(last) > 3 and last.endswith("s") and not last.endswith("ss"):
            last = last[:-1]
        words[-1] = last
    return tuple(words)


@cache
def _table() -> tuple[dict[tuple[str, ...], list[int]], list[tuple[str, ...]], int]:
    """(phrase key → concept ids, concept members, longest phrase in words), built once."""
    by_key: dict[tuple[str, ...], list[int]] = {}
    groups: list[tuple[str, ...]] = []
    longest = 1
    for line in _GROUPS.strip().replace("|\n", "|").splitlines():
        members = tuple(dict.fromkeys(m.strip() for m in line.split("|") if m.strip()))
        gid = len(groups)
        groups.append(members)
        for m in members:
            k = _key(m)
            if k and (len(k) > 1 or len(k[0]) > 2):  # "lã" folds to "la": two letters alone name nothing
                by_key.setdefault(k, []).append(gid)
                longest = max(longest, len(k))
    return by_key, groups, longest


def concepts(text: str) -> list[tuple[str, tuple[str, ...]]]:
    """The concepts named in ``text``: ``(phrase as written, the concept's members)``, longest match first."""
    by_key, groups, longest = _table()
    raw = re.findall(r"\w+", text.lower())
    words = [_key(w)[0] if _key(w) else w for w in raw]
    out: list[tuple[str, tuple[str, ...]]] = []
    i = 0
    while i < len(words):
        for n in range(min(longest, len(words) - i), 0, -1):
            key = (*[_fold(w) for w in raw[i:i + n - 1]], words[i + n - 1])
            gids = by_key.get(key)
            if gids:
                for g in gids:
                    out.append((" ".join(raw[i:i + n]), groups[g]))
                i += n
                break
        else:
            i += 1
    return out


# Function words inside other languages' phrases: added to BM25 they would match every product in that language.
_GLUE = frozenset("de da do das dos del la le les el los las a à au aux en para pour für mit di per y e et und "
                  "du des von zum zur con com na no em".split())


def expansions(text: str, frequency: Callable[[str], int] | None = None) -> list[str]:
    """Phrases to add to the ranking text for ``text`` (rules in the module docstring).

    ``frequency(word)``: how often the catalog names a word; a phrase the catalog names often enough
    (its rarest word at least :data:`EXPAND_BELOW`) is not expanded.
    """
    present = set(_key(text))
    added: list[str] = []
    for phrase, members in concepts(text):
        own = _key(phrase)
        if frequency is not None and min(frequency(_fold(w)) for w in phrase.split()) >= EXPAND_BELOW:
            continue
        n = 0
        for m in members:
            k = _key(m)
            # Word by word: "cortador de relva" adds "cortador grama" as "grama" (the query's own "cortador"
            # counted twice would rank a vegetable cutter above every lawn mower).
            words = " ".join(w for w in m.split() if _fold(w) not in _GLUE and not set(_key(w)) & present)
            if k == own or (len(k) == 1 and k[0] in present) or not words or words in added:
                continue
            added.append(words)
            n += 1
            if n >= MAX_ADDED:
                break
    return added


# Japanese shopping words → English (longest first). Adjective forms (赤い) are listed with their stems.
_JAPANESE = {
    "赤い": "red", "赤": "red", "青い": "blue", "青": "blue", "黒い": "black", "黒": "black", "白い": "white",
    "白": "white", "緑": "green", "黄色い": "yellow", "黄色": "yellow", "ピンク": "pink", "紫": "purple",
    "茶色": "brown", "灰色": "grey", "グレー": "grey", "金色": "gold", "銀色": "silver", "紺": "navy",
    "ビーニー": "beanie", "ニット帽": "beanie", "帽子": "hat", "キャップ": "cap", "マフラー": "scarf",
    "スカーフ": "scarf", "手袋": "gloves", "靴下": "socks", "セーター": "sweater", "ジャケット": "jacket",
    "コート": "coat", "シャツ": "shirt", "Tシャツ": "t-shirt", "ドレス": "dress", "ブーツ": "boots", "靴": "shoes",
    "スニーカー": "sneakers", "バッグ": "bag", "リュック": "backpack", "財布": "wallet", "傘": "umbrella",
    "マグカップ": "mug", "マグ": "mug", "カップ": "cup", "皿": "plate", "茶碗": "bowl", "ボウル": "bowl",
    "水筒": "water bottle", "ノート": "notebook", "手帳": "notebook", "ペン": "pen", "万年筆": "fountain pen",
    "鉛筆": "pencil", "マスキングテープ": "washi tape", "和紙": "washi", "風呂敷": "furoshiki", "手ぬぐい": "tenugui",
    "ネックレス": "necklace", "イヤリング": "earrings", "ピアス": "earrings", "指輪": "ring", "時計": "watch",
    "ろうそく": "candle", "キャンドル": "candle", "石鹸": "soap", "お茶": "tea", "コーヒー": "coffee",
    "ウール": "wool", "綿": "cotton", "革": "leather", "木製": "wooden", "陶器": "ceramic", "磁器": "porcelain",
    "毛布": "blanket", "枕": "pillow", "クッション": "cushion", "ランプ": "lamp", "花瓶": "vase", "おもちゃ": "toy",
    "ベビー": "baby", "赤ちゃん": "baby", "子供": "kids", "レディース": "women", "メンズ": "men",
    "ギフト": "gift", "プレゼント": "gift", "登山靴": "hiking boots", "防水": "waterproof", "の": " ",
}
_JA_RX = re.compile("|".join(re.escape(k) for k in sorted(_JAPANESE, key=len, reverse=True)))
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f]")


def translate_script(query: str) -> str:
    """Known Japanese words of ``query`` replaced by English (spaced); other text unchanged."""
    if not _CJK.search(query):
        return query
    out = _JA_RX.sub(lambda m: f" {_JAPANESE[m.group()]} ", query)
    return re.sub(r"\s+", " ", out).strip()
