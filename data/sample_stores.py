"""The sample catalog's content: what each invented store and shop sells (see data/README.md).

Hand-written products cover the demo queries and their near misses; product lines fill the rest.
"""

from __future__ import annotations

from sample_kit import EtsyShopGen, Store, html, product_line


def northfield(s: Store) -> None:
    wool = "Material: 100% merino wool"
    s.add("Classic Merino Wool Beanie", "Beanies", [("Color", ["Red", "Navy", "Charcoal"]), ("Size", ["S", "M", "L"])],
          34.00, sold_out={("Navy", "L")}, tags=["beanie", "wool", "merino", "winter", "hat", "gift"],
          body=html("Our best-selling beanie, knitted in Vermont from soft, warm merino wool.",
                    [wool, "Double-layer cuff", "Size M fits 56-58 cm"], "Hand wash cold, dry flat."))
    s.add("Ribbed Lambswool Beanie", "Beanies", [("Color", ["Burgundy", "Forest Green"]), ("Size", ["S", "M", "L"])],
          32.00, sold_out=set(), tags=["beanie", "wool", "lambswool", "hat"],
          body=html("A fine-rib beanie in soft lambswool.", ["Material: 100% lambswool", "Fold-up cuff"]))
    s.add("Fisherman Wool Beanie - Large Fit", "Beanies", [("Color", ["Red"]), ("Size", ["L", "XL"])], 30.00,
          sold_out=set(), tags=["beanie", "wool", "fisherman", "hat"],
          body=html("A roomy fisherman cap for larger heads.", ["Material: 100% wool", "Sizes L and XL only"]))
    s.add("Premium Cashmere Wool Beanie", "Beanies", [("Color", ["Red", "Camel"]), ("Size", ["M", "L"])], 45.00,
          sold_out=set(), tags=["beanie", "cashmere", "wool", "luxury", "hat", "gift"],
          body=html("Cashmere and merino wool, brushed for a cloud-soft hand.", ["Material: 70% wool, 30% cashmere"]))
    s.add("Everyday Acrylic Beanie", "Beanies", [("Color", ["Red", "Black"]), ("Size", ["S", "M", "L"])], 18.00,
          sold_out=set(), tags=["beanie", "acrylic", "budget", "hat"],
          body=html("An easy-care everyday beanie.", ["Material: 100% recycled acrylic", "Machine washable"]))
    s.add("Heritage Wool Watch Cap", "Beanies", [("Color", ["Red", "Grey"]), ("Size", ["M", "L"])], 36.00,
          sold_out={("Red", "M")}, tags=["beanie", "watch cap", "wool", "hat"],
          body=html("A close-fitting watch cap in heavy wool.", ["Material: 100% wool", "Made in Maine"]))
    s.add("Striped Bobble Beanie", "Beanies", [("Color", ["Red / White", "Navy / Cream"]), ("Size", ["One Size"])],
          29.00, sold_out=set(), tags=["beanie", "pom pom", "stripes", "wool blend", "hat"],
          body=html("Candy stripes and a big bobble.", ["Material: 60% wool, 40% acrylic", "One size fits most"]))
    s.add("Northfield Knits Gift Card", "Gift Card", [("Denominations", ["$25.00", "$50.00", "$100.00"])], 25.00,
          sold_out=set(), price_step={"$50.00": 25.0, "$100.00": 75.0}, tags=["gift card", "gift"], gift_card=True,
          body=html("Can't decide? Give a Northfield Knits gift card, delivered by email.", ["Never expires"]))
    product_line(s, ptype="Beanies", nouns=["Beanie", "Slouch Beanie", "Pom Beanie", "Cuffed Beanie"],
                 adjs=["Waffle Knit", "Nordic", "Harbor", "Alpine", "Cable Knit", "Trail"],
                 materials=["Alpaca Blend", "Organic Cotton", "Merino", "Recycled Wool"],
                 colors=["Charcoal", "Navy", "Oatmeal", "Forest Green", "Mustard", "Heather Grey", "Black", "Cream"],
                 sizes=["S", "M", "L", "XL"], price=(22, 48), count=16, tags=["beanie", "hat", "winter"],
                 intro="The {t}: a cosy hat for cold mornings.", care="Hand wash cold, dry flat.")
    product_line(s, ptype="Scarves", nouns=["Scarf", "Infinity Scarf", "Wrap"],
                 adjs=["Herringbone", "Ribbed", "Cable Knit", "Featherweight", "Chunky"],
                 materials=["Merino Wool", "Alpaca", "Cashmere Blend", "Cotton"],
                 colors=["Charcoal", "Camel", "Navy", "Ivory", "Rust", "Sage", "Plum"], sizes=None, price=(28, 95),
                 count=14, tags=["scarf", "winter", "gift"], intro="The {t}, long enough to wrap twice.")
    product_line(s, ptype="Mittens & Gloves", nouns=["Mittens", "Gloves", "Fingerless Gloves"],
                 adjs=["Fleece-Lined", "Nordic", "Cable Knit", "Touchscreen"],
                 materials=["Wool", "Alpaca", "Merino", "Lambswool"],
                 colors=["Grey", "Navy", "Cream", "Black", "Forest Green"], sizes=["S", "M", "L"], price=(19, 45),
                 count=12, tags=["gloves", "winter", "hands"], intro="The {t} keep fingers warm on the coldest days.")
    product_line(s, ptype="Sweaters", nouns=["Crew Sweater", "Cardigan", "Turtleneck", "Half-Zip Pullover"],
                 adjs=["Fisherman", "Shaker Stitch", "Lightweight", "Rollneck", "Waffle"],
                 materials=["Merino Wool", "Cotton", "Lambswool", "Cashmere Blend"],
                 colors=["Oatmeal", "Navy", "Charcoal", "Olive", "Cream", "Rust"], sizes=["XS", "S", "M", "L", "XL"],
                 price=(79, 189), count=16, tags=["sweater", "knitwear"], intro="The {t}, knitted to last for years.")
    product_line(s, ptype="Socks", nouns=["Socks", "Boot Socks", "Hiking Socks"],
                 adjs=["Cushioned", "Everyday", "Ragg", "Striped"], materials=["Merino", "Wool Blend", "Cotton"],
                 colors=["Grey", "Navy", "Oatmeal", "Brown"], sizes=["S", "M", "L"], price=(14, 28), count=10,
                 tags=["socks"], intro="{t} with a reinforced heel and toe.", empty_type=0.3)
    # colour families (issue 11): "green beanie" must meet Olive and Sage, "blue" must meet Cobalt
    s.add("Moss Stitch Beanie", "Beanies", [("Color", ["Olive", "Sage", "Cobalt"]), ("Size", ["S", "M", "L"])],
          28.00, sold_out=set(), tags=["beanie", "hat", "winter", "moss stitch"],
          body=html("A dense moss-stitch beanie in soft lambswool.", ["Material: 100% lambswool"]))


def maple(s: Store) -> None:
    sizes = ["7", "7.5", "8", "8.5", "9", "9.5", "10", "10.5", "11", "12", "13"]
    boot = ["waterproof", "hiking", "boots", "boot", "hiking boots"]
    s.add("Ridgeline Waterproof Hiking Boot", "Hiking Boots", [("Size", sizes), ("Color", ["Brown", "Black"])],
          189.00, sold_out={("12", "Black"), ("13", "Brown")}, tags=boot + ["men"],
          body=html("A full-grain leather hiking boot with a waterproof, breathable membrane.",
                    ["Waterproof membrane", "Vibram outsole", "Model RL-200"], "Re-proof with wax twice a season."))
    s.add("Summit Waterproof Mid Hiking Boot", "Hiking Boots", [("Size", sizes[2:10])], 229.00,
          sold_out={("9",)}, tags=boot + ["mid", "men"],
          body=html("Mid-height support for rocky trails, fully seam-sealed.", ["Waterproof", "Model SM-310"]))
    s.add("Aster Women's Waterproof Hiking Boot", "Hiking Boots",
          [("Size", ["5", "6", "7", "8", "9", "10"]), ("Color", ["Taupe", "Slate"])], 174.00, sold_out=set(),
          tags=boot + ["women"], body=html("A lightweight waterproof boot cut for women.", ["Model AS-120"]))
    s.add("Glacier Waterproof Winter Boot", "Hiking Boots", [("Size", ["7", "8", "9"])], 199.00, sold_out=set(),
          tags=boot + ["winter", "insulated"], body=html("Insulated to -30 °C. Limited sizes.", ["Model GL-7"]))
    s.add("Ridge Waterproof Hiking Boot - Wide", "Hiking Boots", [("Size", ["9", "10", "11"])], 195.00,
          sold_out={("10",)}, tags=boot + ["wide"], body=html("Wide-fit version of the Ridge.", ["Model RW-210"]))
    s.add("Trailrunner Mesh Hiking Shoe", "Hiking Shoes", [("Size", sizes)], 139.00, sold_out=set(),
          tags=["hiking", "shoes", "breathable", "mesh", "trail"],
          body=html("A breathable mesh hiking shoe for dry summer trails. Not waterproof.", ["Model TR-90"]))
    product_line(s, ptype="Jackets", nouns=["Rain Jacket", "Insulated Jacket", "Softshell Jacket", "Parka"],
                 adjs=["Coastline", "Muskoka", "Alpine", "Tundra", "Packable"],
                 materials=["Waterproof", "Down", "Synthetic Fill", "Recycled Nylon"],
                 colors=["Black", "Forest", "Navy", "Rust", "Glacier Blue"], sizes=["XS", "S", "M", "L", "XL", "XXL"],
                 price=(149, 449), count=18, tags=["jacket", "outerwear"], intro="The {t} for Canadian weather.")
    product_line(s, ptype="Backpacks", nouns=["Daypack 22L", "Backpack 35L", "Trek Pack 50L", "Hydration Pack 12L"],
                 adjs=["Portage", "Algonquin", "Ridge", "Canyon"], materials=["Ripstop", "Cordura", "Recycled"],
                 colors=["Black", "Olive", "Slate", "Orange"], sizes=None, price=(69, 289), count=14,
                 tags=["backpack", "hiking", "pack"], intro="The {t}, with a ventilated back panel.")
    product_line(s, ptype="Toques", nouns=["Toque", "Pom Toque"], adjs=["Trail", "Lumberjack", "Ski Hill"],
                 materials=["Wool Blend", "Acrylic", "Fleece-Lined"], colors=["Black", "Olive", "Grey", "Orange"],
                 sizes=None, price=(24, 38), count=8, tags=["toque", "hat", "winter"], intro="A warm {t}.")
    product_line(s, ptype="Camp Gear", nouns=["Camp Mug", "Headlamp", "Sleeping Pad", "Trekking Poles", "Dry Bag"],
                 adjs=["Ultralight", "Expedition", "Basecamp"], materials=["Titanium", "Aluminum", "Nylon"],
                 colors=["Silver", "Black", "Orange"], sizes=None, price=(19, 169), count=14, tags=["camping", "gear"],
                 intro="{t}: field-tested in Algonquin Park.", empty_type=0.2)
    product_line(s, ptype="Hiking Socks", nouns=["Hiking Socks", "Crew Socks"], adjs=["Midweight", "Lightweight"],
                 materials=["Merino", "Wool Blend"], colors=["Grey", "Charcoal", "Green"], sizes=["S", "M", "L", "XL"],
                 price=(18, 32), count=4, tags=["socks", "hiking"], intro="{t} that stay dry.")
    # UK/US words (issue 11): "sneakers" must find these trainers
    s.add("Everyday Canvas Trainers", "Shoes", [("Size", ["7", "8", "9", "10", "11"]), ("Color", ["Blue", "White"])],
          69.00, sold_out=set(), tags=["trainers", "canvas", "shoes"],
          body=html("Low-top canvas trainers with a cushioned footbed.", ["Canvas upper", "Rubber sole"]))


def thames(s: Store) -> None:
    s.add("Hand-Thrown Stoneware Mug", "Mugs", [("Glaze", ["Celadon", "Speckled Oat", "Cobalt"])], 18.00,
          sold_out={("Cobalt",)}, tags=["mug", "ceramic", "stoneware", "gift", "handmade", "coffee"],
          body=html("Thrown by hand in our London studio; every mug is slightly different.",
                    ["Ceramic stoneware, 350 ml", "Dishwasher safe"], "A lovely gift for tea lovers."))
    s.add("Ceramic Gift Mug in a Box", "Mugs", [("Colour", ["Sage", "Blush", "Ink"])], 16.50, sold_out=set(),
          tags=["mug", "ceramic", "gift", "gift box"],
          body=html("A glazed ceramic mug presented in a recycled gift box.", ["Ceramic, 300 ml"]))
    s.add("Large Ceramic Latte Mug", "Mugs", [("Colour", ["White", "Charcoal"])], 24.00, sold_out=set(),
          tags=["mug", "ceramic", "latte", "gift"], body=html("A generous 500 ml latte mug.", ["Ceramic, 500 ml"]))
    s.add("Porcelain Espresso Cups (Set of 2)", "Cups", [("Colour", ["White", "Celadon"])], 22.00, sold_out=set(),
          tags=["espresso", "porcelain", "cups", "gift set"], body=html("Two fine porcelain espresso cups.", []))
    product_line(s, ptype="Mugs", nouns=["Mug", "Tea Mug", "Tankard"], adjs=["Dipped", "Speckled", "Rustic", "Fluted"],
                 materials=["Stoneware", "Earthenware", "Porcelain"],
                 colors=["Celadon", "Oatmeal", "Cobalt", "Charcoal", "Blush", "Moss"], sizes=None, price=(14, 32),
                 count=16, opt_names=("Glaze", "Size"), tags=["mug", "ceramic", "handmade"],
                 intro="A {t}, glazed and fired in Bermondsey.", care="Dishwasher and microwave safe.")
    product_line(s, ptype="Bowls", nouns=["Bowl", "Serving Bowl", "Pasta Bowl"], adjs=["Dipped", "Ridged", "Shallow"],
                 materials=["Stoneware", "Porcelain"], colors=["Celadon", "Oatmeal", "Cobalt", "Moss"],
                 sizes=["Small", "Medium", "Large"], opt_names=("Glaze", "Size"), price=(16, 58), count=14,
                 tags=["bowl", "ceramic", "tableware"], intro="A {t} for everyday meals.")
    product_line(s, ptype="Plates", nouns=["Dinner Plate", "Side Plate"], adjs=["Rimmed", "Speckled", "Coupe"],
                 materials=["Stoneware", "Earthenware"], colors=["Oatmeal", "Charcoal", "Celadon"], sizes=None,
                 opt_names=("Glaze", "Size"), price=(14, 34), count=10, tags=["plate", "ceramic", "tableware"],
                 intro="{t}, sold individually.")
    product_line(s, ptype="Vases & Planters", nouns=["Bud Vase", "Planter", "Vase"], adjs=["Ribbed", "Tall", "Moon"],
                 materials=["Stoneware", "Terracotta"], colors=["Chalk", "Terracotta", "Moss", "Ink"], sizes=None,
                 opt_names=("Colour", "Size"), price=(18, 85), count=12, tags=["vase", "planter", "home"],
                 intro="A {t} for windowsills.", empty_type=0.25)
    # colour families (issue 11): a "Cobalt" glaze is blue ("blue mug")
    s.add("Glazed Breakfast Mug", "Mugs", [("Colour", ["Cobalt", "Oatmeal", "Celadon"])], 19.00, sold_out=set(),
          tags=["mug", "ceramic", "stoneware", "breakfast"],
          body=html("A wide, glazed stoneware mug for the first coffee of the day.", ["Stoneware, 400 ml"]))


def atelier(s: Store) -> None:
    s.add("Bonnet côtelé en laine", "Bonnets", [("Couleur", ["Rouge", "Bleu marine"]), ("Taille", ["M", "L"])], 35.00,
          sold_out=set(), tags=["bonnet", "laine", "hiver"],
          body=html("Un bonnet côtelé tricoté en laine mérinos.", ["Matière : 100 % laine mérinos"]))
    s.add("Foulard en soie marinière", "Foulards", [("Couleur", ["Rouge / Blanc", "Bleu / Blanc"])], 59.00,
          sold_out=set(), tags=["foulard", "soie", "rayures"], body=html("Un carré de soie à rayures.", ["Soie"]))
    product_line(s, ptype="Pulls", nouns=["Pull marin", "Cardigan", "Pull col roulé"], adjs=["en laine", "en coton"],
                 materials=["", "bio"], colors=["Écru", "Bleu marine", "Rouge", "Gris chiné"],
                 sizes=["XS", "S", "M", "L", "XL"], opt_names=("Couleur", "Taille"), price=(89, 169), count=6,
                 tags=["pull", "tricot"], intro="Le {t}, tricoté en Bretagne.", lang="fr")
    product_line(s, ptype="Sacs", nouns=["Sac cabas", "Tote bag", "Sac bandoulière"], adjs=["en toile", "en cuir"],
                 materials=["", "vintage"], colors=["Naturel", "Noir", "Camel"], sizes=None,
                 opt_names=("Couleur", "Taille"), price=(39, 189), count=6, tags=["sac"], intro="Le {t}.", lang="fr")
    product_line(s, ptype="Écharpes", nouns=["Écharpe", "Étole", "Snood"], adjs=["en cachemire", "en laine", "en lin"],
                 materials=["", "douce"], colors=["Gris", "Camel", "Bordeaux", "Écru"], sizes=None,
                 opt_names=("Couleur", "Taille"), price=(45, 145), count=8, tags=["écharpe"], intro="L'{t}.", lang="fr")
    product_line(s, ptype="Chemises", nouns=["Chemise", "Blouse", "Robe"], adjs=["en lin", "en popeline"],
                 materials=["", "rayée", "brodée"], colors=["Blanc", "Ciel", "Rouge / Blanc", "Noir"],
                 sizes=["XS", "S", "M", "L", "XL"], opt_names=("Couleur", "Taille"), price=(69, 159), count=12,
                 tags=["chemise", "été"], intro="La {t}, coupée à Lyon.", lang="fr")
    product_line(s, ptype="Accessoires", nouns=["Ceinture", "Gants", "Pochette"], adjs=["en cuir"],
                 materials=["", "tressé", "lisse"], colors=["Noir", "Cognac", "Bordeaux"], sizes=["S", "M", "L"],
                 opt_names=("Couleur", "Taille"), price=(35, 95), count=8, tags=["accessoire", "cuir"],
                 intro="{t}.", lang="fr")
    s.add("Marinière rayée", "Pulls", [("Couleur", ["Bleu / Blanc", "Rouge / Blanc"]), ("Taille", ["S", "M", "L"]),
                                       ("Matière", ["Coton", "Laine"])], 65.00,
          price_step={"Laine": 20.0}, tags=["marinière", "rayures", "pull"],
          body=html("La marinière bretonne, en coton ou en laine.", ["Coupe droite", "Fabriquée en France"]))


def bergwerk(s: Store) -> None:
    s.add("Merino-Mütze Rot", "Mützen", [("Farbe", ["Rot"]), ("Größe", ["S", "M", "L"])], 29.00, sold_out=set(),
          tags=["mütze", "beanie", "wolle", "merino", "red wool beanie"],
          body=html("Rote Mütze aus 100 % Merinowolle (red merino wool beanie).", ["Material: Merinowolle"]))
    s.add("Wanderschuh Alpin GTX wasserdicht", "Wanderschuhe",
          [("Größe", ["40", "41", "42", "43", "44", "45", "46"]), ("Farbe", ["Braun", "Anthrazit"])], 179.00,
          sold_out={("44", "Braun")}, tags=["wanderschuh", "wasserdicht", "waterproof", "hiking boots"],
          body=html("Wasserdichter Wanderschuh mit GTX-Membran.", ["Modell AG-44", "EU-Größen"]))
    product_line(s, ptype="Jacken", nouns=["Softshelljacke", "Regenjacke", "Daunenjacke"],
                 adjs=["Leichte", "Warme", "Wasserdichte"], materials=["Tirol", "Allgäu", "Karwendel"],
                 colors=["Schwarz", "Dunkelblau", "Rot", "Oliv"], sizes=["S", "M", "L", "XL"],
                 opt_names=("Farbe", "Größe"), price=(99, 329), count=12, tags=["jacke"], intro="Die {t}.", lang="de")
    product_line(s, ptype="Rucksäcke", nouns=["Rucksack 30L", "Tagesrucksack 20L"], adjs=["Robuster", "Leichter"],
                 materials=["Gipfel", "Tal", "Grat"], colors=["Schwarz", "Grau", "Orange"], sizes=None,
                 opt_names=("Farbe", "Größe"), price=(59, 189), count=10, tags=["rucksack"], intro="Der {t}.",
                 lang="de")
    product_line(s, ptype="Wanderschuhe", nouns=["Wanderschuh", "Trailschuh"], adjs=["Leichter", "Robuster"],
                 materials=["Pfad", "Fels", "Wald"], colors=["Braun", "Grau", "Blau"],
                 sizes=["39", "40", "41", "42", "43", "44", "45", "46"], opt_names=("Farbe", "Größe"),
                 price=(89, 219), count=10, tags=["schuh", "wandern"], intro="Der {t}.", lang="de")
    product_line(s, ptype="Mützen", nouns=["Mütze", "Stirnband"], adjs=["Warme", "Gestrickte"],
                 materials=["Berg", "Schnee"], colors=["Grau", "Schwarz", "Oliv", "Petrol"], sizes=None,
                 opt_names=("Farbe", "Größe"), price=(19, 39), count=4, tags=["mütze"], intro="Die {t}.", lang="de")
    product_line(s, ptype="Zubehör", nouns=["Trinkflasche", "Stirnlampe", "Wanderstöcke"], adjs=["Leichte"],
                 materials=["Alu", "Carbon", "Titan"], colors=["Silber", "Schwarz"], sizes=None,
                 opt_names=("Farbe", "Größe"), price=(15, 129), count=6, tags=["zubehör"], intro="{t}.", lang="de")
    # German colour values (issue 11): "blue thermos flask" meets Blau although other stores say "Blue"
    s.add("Thermosflasche Edelstahl 0,75 L", "Zubehör", [("Farbe", ["Schwarz", "Blau", "Waldgrün"])], 34.00,
          sold_out=set(), tags=["thermosflasche", "isolierflasche", "trinkflasche"],
          body=html("Doppelwandige Thermosflasche aus Edelstahl: hält Getränke 24 Stunden kalt und 12 Stunden heiß.",
                    ["Material: Edelstahl", "Inhalt: 0,75 Liter"]))


def kyoto(s: Store) -> None:
    s.add("Hasami Porcelain Mug", "Mugs", [("Color", ["Gloss White", "Matte Black", "Indigo"])], 2800, sold_out=set(),
          tags=["mug", "porcelain", "ceramic", "hasami", "gift"],
          body=html("Stackable Hasami porcelain from Nagasaki.", ["Porcelain, 300 ml", "Made in Japan"]))
    s.add("Solid Brass Bookmark", "Bookmarks", [], 1500, sold_out=set(), tags=["bookmark", "brass", "gift"],
          body=html("A thin brass bookmark that darkens with use.", ["Solid brass", "Model KPG-BM1"]))
    product_line(s, ptype="Notebooks", nouns=["Notebook", "Journal", "Memo Pad"], adjs=["A5", "B6", "Pocket"],
                 materials=["Tomoe River", "Kraft", "Linen-Bound"], colors=["Dot Grid", "Lined", "Blank", "Grid"],
                 sizes=None, opt_names=("Ruling", "Size"), price=(600, 3200), count=12, tags=["notebook", "paper"],
                 intro="A {t} with fountain-pen friendly paper.")
    product_line(s, ptype="Pens", nouns=["Fountain Pen", "Gel Pen", "Brush Pen"], adjs=["Fine", "Medium", "Broad"],
                 materials=["Brass", "Resin", "Urushi Lacquer"], colors=["Black", "Vermilion", "Navy", "Jade"],
                 sizes=None, price=(300, 18000), count=12, tags=["pen", "stationery"], intro="A {t}, made in Japan.")
    product_line(s, ptype="Furoshiki & Tenugui", nouns=["Furoshiki", "Tenugui Towel"], adjs=["Wave", "Cherry", "Crane"],
                 materials=["Cotton", "Silk"], colors=["Indigo", "Red / White", "Green", "Ochre"], sizes=None,
                 price=(900, 6500), count=8, tags=["furoshiki", "wrapping", "gift"], intro="A {t}, dyed in Kyoto.")
    product_line(s, ptype="Washi Tape", nouns=["Washi Tape"], adjs=["Botanical", "Pastel", "Kimono", "Stripe"],
                 materials=["15mm", "24mm"], colors=["Set of 3", "Set of 5"], sizes=None,
                 opt_names=("Pack", "Size"), price=(400, 1600), count=7, tags=["washi", "tape"], intro="{t}.")


def luna(s: Store) -> None:
    """A Spanish-language baby store: colours and sizes in Spanish (``Dorado``, ``Rosa``, ``6-12 meses``)."""
    months = ["0-6 meses", "6-12 meses", "12-18 meses"]
    s.add("Sandalias de Piel para Bebé", "Calzado de bebé", [("Color", ["Dorado", "Rosa", "Plateado"]),
                                                             ("Talla", months)], 24.00, sold_out=set(),
          tags=["sandalias", "bebé", "calzado", "piel"],
          body=html("Sandalias de piel suave para los primeros pasos.", ["Material: piel", "Suela flexible"]))
    s.add("Gorro de Punto para Bebé", "Gorros", [("Color", ["Rosa", "Azul", "Crema"]), ("Talla", months[:2])],
          14.00, sold_out=set(), tags=["gorro", "bebé", "punto", "algodón"],
          body=html("Gorro de punto de algodón orgánico, suave y cálido.", ["Material: algodón orgánico"]))
    s.add("Extractor de Leche Eléctrico Portátil y Manos Libres", "Lactancia", [], 89.00, sold_out=set(),
          tags=["lactancia", "extractor de leche", "manos libres"],
          body=html("Extractor de leche eléctrico, silencioso y portátil: cabe dentro del sujetador.",
                    ["Batería recargable", "Sin BPA"]))
    s.add("Mochila Infantil de Algodón", "Mochilas", [("Color", ["Verde Oliva", "Azul Marino", "Rosa"])], 29.00,
          sold_out=set(), tags=["mochila", "infantil", "guardería"],
          body=html("Mochila pequeña de algodón para la guardería.", ["Material: algodón"]))
    # "zapatos para niña" meets "niño" only through Spanish stemming (es:nin; English keeps nina, nino)
    s.add("Zapatos Rojos de Charol para Niño", "Calzado infantil", [("Color", ["Rojo"]), ("Talla", ["20", "21", "22"])],
          32.00, sold_out=set(), tags=["zapatos", "charol"],
          body=html("Zapatos de charol con cierre de velcro, cómodos para el colegio.",
                    ["Material: charol", "Suela antideslizante"]))


STORES = [
    (("northfield-knits", "Northfield Knits", "USD", "US", ["US", "CA"], -5, "NFK",
      "Knitwear from Vermont: beanies, scarves and sweaters."), northfield),
    (("maple-trail-outfitters", "Maple Trail Outfitters", "CAD", "CA", ["CA", "US"], -5, "MTO",
      "Hiking boots, jackets and camp gear from Ontario."), maple),
    (("thames-pottery", "Thames Pottery", "GBP", "GB", ["GB", "IE", "FR", "DE", "NL"], 0, "THP",
      "Handmade ceramics from a London studio."), thames),
    (("atelier-lumiere", "Atelier Lumière", "EUR", "FR", ["FR", "BE", "LU", "CH", "DE", "CA"], 1, "ATL",
      "Mode et accessoires fabriqués en France."), atelier),
    (("bergwerk-outdoor", "Bergwerk Outdoor", "EUR", "DE", ["DE", "AT", "CH", "NL"], 1, "BWO",
      "Outdoor-Ausrüstung aus den Alpen."), bergwerk),
    (("kyoto-paper-goods", "Kyoto Paper Goods", "JPY", "JP", ["JP", "US", "CA", "GB", "AU"], 9, "KPG",
      "Stationery and gifts from Kyoto."), kyoto),
    (("luna-bebe", "Luna Bebé", "EUR", "ES", ["ES", "PT", "FR", "DE"], 1, "LNB",
      "Ropa y accesorios para bebés, hechos en España."), luna),
]


def hollowoak(e: EtsyShopGen) -> None:
    e.add("Personalized Walnut Cutting Board - Engraved Wedding Gift",
          "A solid walnut cutting board, laser engraved with your names and date.\n\nPersonalization is required: "
          "add the names and date at checkout.\n\nFinished with food-safe mineral oil.",
          48.00, tags=["cutting board", "personalized", "walnut", "wedding gift", "engraved", "kitchen"],
          materials=["walnut", "mineral oil"],
          props=[(100, "Size", ['Small 12x8"', 'Medium 16x10"', 'Large 20x12"']),
                 (513, "Wood type", ["Walnut", "Maple"])],
          sold_out={('Large 20x12"', "Maple")}, price_step={'Medium 16x10"': 14.0, 'Large 20x12"': 30.0},
          personalizable=True, personalization_required=True)
    e.add("Engraved Bamboo Coasters, Set of 4", "Four bamboo coasters; add a monogram if you like (optional).",
          24.00, tags=["coasters", "bamboo", "monogram", "gift"], materials=["bamboo"], personalizable=True)
    e.add("Wooden Train Set for Toddlers", "A 12-piece maple train set finished with beeswax.", 56.00,
          tags=["wooden toy", "train", "toddler", "montessori"], materials=["maple", "beeswax"])
    e.add("Live Edge Walnut Floating Shelf", "One-of-a-kind live edge shelf.", 120.00, tags=["shelf", "live edge"],
          materials=["walnut"], state="sold_out")
    e.add("Cherry Jewelry Box (coming soon)", "Draft listing.", 85.00, tags=["jewelry box"], materials=["cherry"],
          state="draft")
    wood = (513, "Wood type", ["Walnut", "Maple", "Cherry", "Oak"])
    e.line(nouns=["Cutting Board", "Serving Board", "Charcuterie Board"], adjs=["End Grain", "Classic", "Rustic"],
           woods=["Walnut", "Maple", "Cherry"], price=(35, 140), count=10, tags=["cutting board", "kitchen"],
           materials=["food-safe oil"], props=[(100, "Size", ["Small", "Medium", "Large"])],
           intro="{t}, cut and finished by hand.")
    e.line(nouns=["Serving Tray", "Spoon Set", "Salad Servers", "Rolling Pin"], adjs=["Hand Carved", "Turned"],
           woods=["Oak", "Cherry", "Olive Wood"], price=(18, 75), count=10, tags=["kitchen", "wooden"],
           materials=["beeswax"], intro="{t} for everyday cooking.")
    e.line(nouns=["Stacking Toy", "Rattle", "Puzzle"], adjs=["Wooden", "Natural"], woods=["Maple", "Beech"],
           price=(16, 48), count=6, tags=["wooden toy", "baby"], materials=["beeswax"], intro="{t}, safe for babies.")
    e.line(nouns=["Picture Frame", "Phone Stand", "Key Holder"], adjs=["Minimalist", "Engraved"],
           woods=["Walnut", "Oak"],
           price=(19, 59), count=8, tags=["home decor", "desk"], materials=[], props=[wood],
           intro="{t} for the home or office.")


def wildthread(e: EtsyShopGen) -> None:
    e.add("Hand Knit Striped Bobble Hat", "Chunky bobble hat knitted by hand in Yorkshire.", 27.00,
          tags=["bobble hat", "beanie", "hand knit", "stripes", "wool"], materials=["wool"],
          props=[(200, "Color", ["Red / White", "Mustard / Navy"]), (100, "Size", ["Child", "Adult M", "Adult L"])])
    e.add("Hand Knit Red Wool Beanie", "A simple ribbed beanie in British wool.", 26.00,
          tags=["beanie", "red", "wool", "hand knit"], materials=["british wool"],
          props=[(200, "Color", ["Red"]), (100, "Size", ["S", "M", "L"])], sold_out=set())
    e.add("Cabled Beanie Knitting Pattern (PDF download)", "A digital PDF pattern; no physical item is sent.", 5.50,
          tags=["knitting pattern", "pdf", "beanie"], materials=[], listing_type="download", when_made="2020_2026")
    e.add("Embroidered Name Tote Bag", "Canvas tote with your name embroidered (optional).", 19.00,
          tags=["tote", "embroidered", "personalised"], materials=["cotton canvas"], personalizable=True)
    e.add("Crochet Bunny (retired)", "No longer made.", 22.00, tags=["crochet"], materials=["cotton"], state="inactive")
    e.line(nouns=["Tote Bag", "Pouch", "Cushion Cover"], adjs=["Embroidered", "Block Printed"],
           woods=["Linen", "Cotton Canvas", "Hemp"], price=(12, 45), count=10, tags=["textile", "handmade"],
           materials=[], props=[(200, "Color", ["Natural", "Sage", "Rust", "Black"])], intro="{t}, stitched in Leeds.")
    e.line(nouns=["Earrings", "Studs", "Necklace"], adjs=["Polymer Clay", "Resin", "Pressed Flower"],
           woods=["Daisy", "Arch", "Moon"], price=(9, 32), count=10, tags=["jewellery", "earrings", "gift"],
           materials=["polymer clay", "sterling silver"],
           props=[(200, "Color", ["Terracotta", "Sage", "Blush", "Red / White"])],
           intro="{t}, lightweight and hypoallergenic.")
    e.line(nouns=["Art Print", "Botanical Print"], adjs=["Giclée", "Risograph"], woods=["Fern", "Wildflower", "Heron"],
           price=(8, 40), count=8, tags=["art print", "wall art"], materials=["archival paper"],
           props=[(100, "Size", ["A5", "A4", "A3"])], intro="{t} on heavyweight archival paper.")
    e.line(nouns=["Crochet Toy", "Knitted Dinosaur"], adjs=["Handmade"], woods=["Cotton", "Merino"],
           price=(18, 34), count=4, tags=["toy", "crochet"], materials=["stuffing"], intro="{t}, made to be loved.")
    # UK words (issue 11): "sweater" must find this jumper
    e.add("Hand Knit Lambswool Jumper", "A chunky crew-neck jumper knitted by hand in Yorkshire.", 95.00,
          tags=["jumper", "knitwear", "hand knit", "wool"], materials=["lambswool"],
          props=[(200, "Color", ["Heather Grey", "Bottle Green"]), (100, "Size", ["S", "M", "L"])], sold_out=set())
    # a composite option (issue 11): Etsy merchants join two properties in one, "Color / Style" = "Black / T-Shirt"
    e.add("Hand Printed Hieroglyph Tee - Ancient Egypt Graphic Shirt",
          "Screen printed by hand with a hieroglyph border, on soft ringspun cotton.", 17.00,
          tags=["t-shirt", "tee", "egypt", "hieroglyph", "graphic tee"], materials=["cotton"],
          props=[(100, "Size", ["S", "M", "L"]),
                 (513, "Color / Style", ["Black / T-Shirt", "White / T-Shirt", "Black / Tank Top"])],
          sold_out=set(), price_step={"Black / Tank Top": -2.0})


SHOPS = [
    (("hollowoak-woodworks", "HollowOakWoodworks", "USD", ["US", "CA", "GB", "AU"]), hollowoak),
    (("wildthread-studio", "WildThreadStudio", "GBP", None), wildthread),
]
