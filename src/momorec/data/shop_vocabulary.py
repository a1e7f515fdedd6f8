"""The hand-written vocabulary of the built-in shop: purchase motivations, product types, brands.

Every motivation is a reason somebody shops for a set of related things (setting up a home espresso
corner, training for a first marathon, …). It owns a handful of product types; each product type is
written in a compact one-line form ``"Noun | low-high | attribute; attribute | variant; variant"``:
the noun that ends a listing title, a price range in dollars, features that go after the first comma of
a title, and optional variants (size, colour, count) that end it. Shared product types (a water bottle,
a timer) fit several motivations and make the items that carry a second true motivation.

Brand and model names are invented for this project; any likeness to a real brand is accidental.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProductType:
    """One kind of product: the noun of its titles, its price range, features and variants."""

    noun: str
    price_low: float
    price_high: float
    attributes: tuple[str, ...]
    variants: tuple[str, ...]


@dataclass(frozen=True)
class Motivation:
    """A latent reason to shop, with the shelf it lives on and the products and brands that serve it."""

    key: str
    name: str
    main_category: str
    subcategory: str
    use_hint: str
    brands: tuple[str, ...]
    product_types: tuple[ProductType, ...]


@dataclass(frozen=True)
class SharedProductType:
    """A product type that plausibly serves several motivations (listed by key)."""

    product_type: ProductType
    motivation_keys: tuple[str, ...]
    main_category: str
    subcategory: str


def parse_product_type(line: str) -> ProductType:
    """Parse ``"Noun | low-high | attr; attr | variant; variant"`` (the variant part may be empty)."""
    parts = [part.strip() for part in line.split("|")]
    if len(parts) != 4:
        raise ValueError(f"product type line needs 4 '|'-separated parts: {line!r}")
    noun, price_range, attributes, variants = parts
    low, high = (float(value) for value in price_range.split("-"))
    if not 0 < low <= high:
        raise ValueError(f"bad price range in product type line: {line!r}")
    return ProductType(
        noun=noun,
        price_low=low,
        price_high=high,
        attributes=tuple(a.strip() for a in attributes.split(";") if a.strip()),
        variants=tuple(v.strip() for v in variants.split(";") if v.strip()),
    )


def _motivation(
    key: str,
    name: str,
    main_category: str,
    subcategory: str,
    use_hint: str,
    brands: str,
    *product_lines: str,
) -> Motivation:
    return Motivation(
        key=key,
        name=name,
        main_category=main_category,
        subcategory=subcategory,
        use_hint=use_hint,
        brands=tuple(b.strip() for b in brands.split(",")),
        product_types=tuple(parse_product_type(line) for line in product_lines),
    )


# fmt: off
MOTIVATIONS: tuple[Motivation, ...] = (
    _motivation(
        "home_espresso", "home espresso setup", "Home & Kitchen", "Coffee, Tea & Espresso",
        "a dependable companion for pulling cafe-style shots at home",
        "Crema Works, Baristo, Portafina, Dark Roast Lab",
        "Espresso Machine | 140-690 | 15 Bar Pump; Dual Boiler; Built-In Steam Wand | Stainless Steel; Brushed Black",
        "Burr Coffee Grinder | 35-240 | 40 Grind Settings; Conical Burrs; Low Retention | Matte Black; Silver",
        "Milk Frothing Pitcher | 9-28 | Latte Art Spout; Measurement Marks | 12 oz; 20 oz",
        "Espresso Tamper | 12-45 | Calibrated Spring; Flat Base | 51 mm; 54 mm; 58 mm",
        "Knock Box | 14-40 | Removable Bar; Non-Slip Base | Small; Large",
        "Espresso Roast Coffee Beans | 12-32 | Whole Bean; Chocolate and Caramel Notes | 1 lb; 2 lb",
    ),
    _motivation(
        "pour_over_coffee", "slow pour-over coffee ritual", "Home & Kitchen", "Coffee, Tea & Espresso",
        "made for an unhurried morning brew",
        "Drip Theory, Bloomwell, Kettle & Cone",
        "Gooseneck Kettle | 25-160 | Precision Pour Spout; Temperature Control | 0.9 L; 1.2 L",
        "Pour-Over Coffee Dripper | 12-45 | Ceramic; Spiral Ribs | Size 01; Size 02",
        "Paper Coffee Filters | 6-15 | Unbleached; Cone Shape | 100 Count; 200 Count",
        "Glass Coffee Server | 15-40 | Heat-Resistant Borosilicate | 600 ml; 800 ml",
        "Single Origin Light Roast Beans | 14-30 | Floral and Citrus Notes; Whole Bean | 12 oz; 1 lb",
    ),
    _motivation(
        "first_marathon", "training for a first marathon", "Sports & Outdoors", "Running",
        "built for long training runs and race day",
        "Stride Labs, Pacefield, Longmile, Ridgeway Run",
        "Road Running Shoes | 80-180 | Cushioned Midsole; Breathable Mesh Upper | Men's 10; Women's 8; Men's 11",
        "GPS Running Watch | 120-450 | Heart Rate Monitor; 14-Day Battery | Black; Slate Blue",
        "Running Hydration Belt | 18-45 | Two Flasks; Bounce-Free Fit | S/M; L/XL",
        "Energy Gel Pack | 18-38 | Caffeinated; Electrolytes | 12 Pack; 24 Pack",
        "Anti-Chafe Balm Stick | 8-16 | Sweat Resistant; Fragrance Free | 1.5 oz",
        "Compression Running Socks | 14-32 | Graduated Compression; Cushioned Heel | 2 Pairs; 3 Pairs",
    ),
    _motivation(
        "trail_running", "getting into trail running", "Sports & Outdoors", "Running",
        "grippy and light for rocky, muddy trails",
        "Switchback, Rootline, Scree Co",
        "Trail Running Shoes | 95-190 | Lugged Outsole; Rock Plate | Men's 10; Women's 7; Men's 9",
        "Trail Running Vest | 60-160 | 12 L Capacity; Soft Flasks Included | S/M; L/XL",
        "Collapsible Trail Poles | 45-140 | Carbon Fiber; Folding Z Design | 115 cm; 125 cm",
        "Gaiters for Trail Running | 15-35 | Debris Proof; Hook Attachment | One Size",
        "Emergency Whistle | 5-12 | 120 dB; Lanyard Included | 2 Pack",
    ),
    _motivation(
        "newborn_sleep", "a newborn's sleep", "Baby", "Nursery",
        "designed to help little ones settle at night",
        "Hushabye, Little Lull, Nest & Nod, Softmoon",
        "Swaddle Blanket | 18-45 | Breathable Muslin Cotton; Adjustable Wings | 0-3 Months; 3-6 Months",
        "Baby Sleep Sack | 25-55 | Two-Way Zipper; 1.0 TOG | Small; Medium",
        "Video Baby Monitor | 60-250 | Night Vision; Two-Way Talk | 5 Inch Screen",
        "Nursery Blackout Curtains | 25-60 | Thermal Insulated; Rod Pocket | 52 x 84 in; 52 x 63 in",
        "Crib Fitted Sheet | 15-35 | Organic Cotton; Deep Pocket | 2 Pack; 3 Pack",
    ),
    _motivation(
        "baby_feeding", "feeding a new baby", "Baby", "Feeding",
        "gentle on tiny tummies and easy to clean",
        "Milkbud, Tiny Spoon Co, Cradlecare",
        "Anti-Colic Baby Bottles | 18-45 | Slow-Flow Nipples; BPA Free | 4 oz; 8 oz; 3 Pack",
        "Bottle Sterilizer and Dryer | 60-140 | Steam Cleaning; Auto Shut-Off | White",
        "Electric Breast Pump | 90-260 | Quiet Motor; Adjustable Suction | Single; Double",
        "Nursing Pillow | 30-60 | Removable Cover; Firm Support | Gray; Sage",
        "Silicone Bibs | 10-22 | Food Catcher Pocket; Waterproof | 3 Pack",
    ),
    _motivation(
        "beginner_aquarium", "a beginner's freshwater aquarium", "Pet Supplies", "Fish & Aquatic Pets",
        "an easy start for a first home aquarium",
        "ClearReef, Finfolk, Aquaverde",
        "Glass Aquarium Kit | 50-220 | LED Hood; Filter Included | 10 Gallon; 20 Gallon; 29 Gallon",
        "Aquarium Heater | 18-45 | Adjustable Thermostat; Shatterproof | 100 W; 200 W",
        "Water Conditioner | 6-18 | Removes Chlorine; Detoxifies Ammonia | 8 oz; 16 oz",
        "Aquarium Gravel | 10-28 | Natural Color; Pre-Rinsed | 5 lb; 10 lb",
        "Water Test Kit | 20-40 | Tests pH, Ammonia, Nitrite and Nitrate | 800 Tests",
        "Tropical Fish Flakes | 5-14 | Color Enhancing; Clear Water Formula | 2.2 oz; 7 oz",
    ),
    _motivation(
        "backyard_bbq", "hosting a backyard barbecue", "Patio, Lawn & Garden", "Grills & Outdoor Cooking",
        "ready for long afternoons at the grill with friends",
        "Emberline, Hickory Hall, Smokestack Co, Flamewright",
        "Charcoal Kettle Grill | 90-320 | Porcelain-Enameled Bowl; One-Touch Cleaning | 18 Inch; 22 Inch",
        "Grill Tool Set | 20-60 | Stainless Steel Spatula, Tongs and Fork; Carry Case | 5 Piece; 18 Piece",
        "Wood Smoking Chips | 8-20 | Hickory; Applewood | 2 lb; 4 lb",
        "Grill Cleaning Brush | 10-25 | Bristle-Free Scraper; Long Handle | 18 Inch",
        "BBQ Sauce Variety Pack | 15-35 | Sweet and Smoky; Small Batch | 3 Bottles; 6 Bottles",
        "Chimney Charcoal Starter | 18-40 | Quick Start; Heat Shield Handle | Standard; Large",
    ),
    _motivation(
        "remote_work_ergonomics", "remote-work desk ergonomics", "Office Products", "Office Furniture & Lighting",
        "keeps long workdays at a home desk comfortable",
        "Deskwell, Posturo, Homebase Office, Workline",
        "Ergonomic Office Chair | 150-480 | Adjustable Lumbar Support; 4D Armrests | Mesh Black; Gray",
        "Standing Desk Converter | 110-290 | Gas Spring Lift; Keyboard Tray | 32 Inch; 36 Inch",
        "Monitor Arm | 35-120 | Full Motion; Cable Management | Single; Dual",
        "Ergonomic Footrest | 25-60 | Adjustable Height; Massage Surface | Black",
        "Split Ergonomic Keyboard | 60-180 | Tented Design; Wireless | Full Size; Tenkeyless",
        "Vertical Mouse | 20-70 | Wireless; Six Buttons | Right Hand; Left Hand",
    ),
    _motivation(
        "video_calls", "looking good on video calls", "Electronics", "Computer Accessories",
        "sharper picture and clearer voice for every meeting",
        "Clearcast, Vidora, Beamly",
        "1080p Webcam | 35-150 | Autofocus; Dual Microphones | Black",
        "Ring Light with Stand | 20-70 | Three Color Modes; Dimmable | 10 Inch; 12 Inch",
        "USB Condenser Microphone | 45-140 | Cardioid Pattern; Mute Button | Black; White",
        "Noise Cancelling Headset | 50-200 | Boom Mic; All-Day Comfort | Wireless; USB-C",
        "Laptop Stand | 20-55 | Aluminum; Adjustable Height | Silver; Space Gray",
    ),
    _motivation(
        "sourdough_baking", "learning sourdough baking", "Home & Kitchen", "Bakeware",
        "helps a home baker get a crusty, open loaf",
        "Crumb & Crust, Levain House, Proofwell",
        "Bread Proofing Basket | 15-35 | Natural Rattan; Linen Liner | 9 Inch Round; 10 Inch Oval",
        "Enameled Dutch Oven | 50-250 | Cast Iron; Oven Safe to 500F | 5 Qt; 6 Qt",
        "Bread Lame | 8-18 | Replaceable Blades; Wooden Handle | 5 Blades",
        "Sourdough Starter Jar | 14-30 | Wide Mouth Glass; Feeding Band | 24 oz; 34 oz",
        "Bread Flour | 8-25 | Unbleached; High Protein | 5 lb; 10 lb",
    ),
    _motivation(
        "cake_decorating", "decorating celebration cakes", "Home & Kitchen", "Bakeware",
        "for smooth frosting and tidy piping",
        "Sugarleaf, Frost & Pipe, Confecto",
        "Cake Turntable | 15-40 | Rotating Base; Non-Slip Feet | 12 Inch",
        "Piping Tip Set | 12-30 | Stainless Steel Tips; Reusable Bags | 24 Piece; 52 Piece",
        "Offset Spatula Set | 8-20 | Angled Blade | 3 Piece",
        "Gel Food Coloring Kit | 10-24 | Vibrant Colors; Highly Concentrated | 12 Colors",
        "Round Cake Pans | 18-40 | Nonstick; Removable Bottom | 6 Inch; 8 Inch; 3 Pack",
    ),
    _motivation(
        "home_gym_strength", "building a home strength gym", "Sports & Outdoors", "Exercise & Fitness",
        "solid gear for consistent strength sessions at home",
        "Ironclad, Repforge, Barbell Union, Liftwise",
        "Adjustable Dumbbells | 120-420 | Quick-Change Dial; 5 to 52.5 lb | Pair; Single",
        "Weight Bench | 80-260 | Adjustable Incline; 600 lb Capacity | Black",
        "Rubber Gym Floor Mats | 40-120 | Interlocking Tiles; Shock Absorbing | 6 Tiles; 12 Tiles",
        "Pull-Up Bar | 25-70 | Doorway Mount; Multi-Grip | Standard",
        "Lifting Belt | 25-65 | Lever Buckle; 10 mm Leather | Medium; Large",
    ),
    _motivation(
        "yoga_practice", "starting a home yoga practice", "Sports & Outdoors", "Yoga",
        "supports a steady, comfortable home practice",
        "Lotusform, Mat & Breath, Still Point",
        "Yoga Mat | 25-110 | Non-Slip Natural Rubber; Alignment Lines | 6 mm; 4 mm",
        "Yoga Blocks | 12-28 | High-Density Foam; Beveled Edges | 2 Pack",
        "Yoga Strap | 7-15 | Cotton; D-Ring Buckle | 8 ft; 10 ft",
        "Meditation Cushion | 30-70 | Buckwheat Hull Fill; Washable Cover | Round; Crescent",
        "Yoga Bolster | 35-80 | Rectangular; Removable Cover | Standard",
    ),
    _motivation(
        "houseplants", "caring for indoor houseplants", "Patio, Lawn & Garden", "Indoor Gardening",
        "keeps indoor greenery thriving",
        "Leaf & Loam, Greenroom, Potted Co",
        "Ceramic Plant Pots | 20-55 | Drainage Holes; Saucers Included | 4 Inch; 6 Inch; Set of 3",
        "Indoor Potting Mix | 9-22 | Perlite Blend; Fast Draining | 4 Qt; 8 Qt",
        "LED Grow Light | 25-90 | Full Spectrum; Timer Function | Clip-On; Floor Stand",
        "Liquid Plant Food | 7-16 | Balanced Nutrients; Gentle Formula | 8 oz; 16 oz",
        "Moisture Meter | 8-18 | No Batteries Needed; Easy Read Dial | Single",
    ),
    _motivation(
        "vegetable_garden", "growing a backyard vegetable garden", "Patio, Lawn & Garden", "Gardening",
        "helps a kitchen garden produce all season",
        "Rowcrop, Sprout & Spade, Fieldhand",
        "Raised Garden Bed | 60-200 | Galvanized Steel; Open Bottom | 4 x 2 ft; 8 x 4 ft",
        "Heirloom Vegetable Seed Kit | 15-35 | Non-GMO; Planting Guide | 20 Varieties",
        "Garden Hose Nozzle | 10-28 | Eight Spray Patterns; Thumb Control | Single",
        "Garden Hand Tool Set | 18-45 | Trowel, Pruner and Weeder; Tote Bag | 5 Piece; 9 Piece",
        "Tomato Cages | 20-50 | Stackable; Powder Coated | 3 Pack; 6 Pack",
        "Organic Compost | 12-30 | OMRI Listed; Rich in Nutrients | 1 cu ft; 2 cu ft",
    ),
    _motivation(
        "camping_weekend", "a family camping weekend", "Sports & Outdoors", "Camping & Hiking",
        "made for nights under the stars with the family",
        "Campfinder, Pinehollow, Basecamp Supply, Northtrail",
        "Family Camping Tent | 120-400 | Weatherproof Rainfly; Easy Setup | 4 Person; 6 Person",
        "Sleeping Bag | 40-140 | 30F Comfort Rating; Compression Sack | Regular; Long",
        "Camping Stove | 35-130 | Two Burners; Wind Guard | Propane",
        "Camp Chairs | 30-80 | Cup Holder; Carry Bag | 2 Pack",
        "Inflatable Sleeping Pad | 35-110 | Built-In Pump; R-Value 4 | Regular; Wide",
        "Camping Lantern | 18-45 | Rechargeable; 1000 Lumens | Single; 2 Pack",
    ),
    _motivation(
        "day_hiking", "day hikes in the hills", "Sports & Outdoors", "Camping & Hiking",
        "light and dependable for a full day on the trail",
        "Summitway, Cairnworks, Ridgeback Gear",
        "Hiking Daypack | 40-120 | 22 L; Rain Cover | Olive; Charcoal",
        "Waterproof Hiking Boots | 90-210 | Ankle Support; Vibram-Style Sole | Men's 10; Women's 8",
        "Trekking Poles | 30-120 | Aluminum; Cork Grips | Pair",
        "Merino Wool Hiking Socks | 16-35 | Cushioned; Odor Resistant | 3 Pairs",
        "Trail Mix Snack Pack | 12-28 | High Protein; Individually Wrapped | 24 Pack",
    ),
    _motivation(
        "new_puppy", "bringing home a new puppy", "Pet Supplies", "Dogs",
        "helps a new puppy settle in and learn the house rules",
        "Pawsome Goods, Wagly, Fetch & Co, Good Boy Supply",
        "Dog Crate | 45-140 | Double Door; Divider Panel | 30 Inch; 36 Inch",
        "Puppy Training Pads | 18-40 | Leak-Proof; Attractant Built In | 50 Count; 100 Count",
        "Puppy Chew Toys | 12-28 | Teething Relief; Durable Rubber | 6 Pack",
        "Adjustable Dog Harness | 18-40 | No-Pull Front Clip; Reflective | Small; Medium",
        "Puppy Food | 25-70 | Real Chicken First Ingredient; DHA | 5 lb; 15 lb",
        "Training Treat Pouch | 12-25 | Magnetic Closure; Belt Clip | Black; Teal",
    ),
    _motivation(
        "cat_care", "keeping an indoor cat happy", "Pet Supplies", "Cats",
        "keeps an indoor cat busy, fed and tidy",
        "Whisker Lane, Purrfect Supply, Nine Lives Goods",
        "Cat Tree Tower | 50-160 | Sisal Scratching Posts; Cozy Condo | 52 Inch; 68 Inch",
        "Clumping Cat Litter | 14-32 | Unscented; Low Dust | 20 lb; 40 lb",
        "Interactive Cat Toy | 10-30 | Feather Wand; Catnip Included | 5 Pack",
        "Cat Water Fountain | 25-55 | Triple Filtration; Quiet Pump | 2 L; 3 L",
        "Covered Litter Box | 25-70 | Odor Filter; Swing Door | Large; Jumbo",
    ),
    _motivation(
        "home_bar", "stocking a home cocktail bar", "Home & Kitchen", "Bar & Wine Tools",
        "for mixing proper cocktails at home",
        "Shaker & Stir, Copperfield Bar, Last Call Co",
        "Cocktail Shaker Set | 25-70 | Weighted Tins; Hawthorne Strainer | 10 Piece; 14 Piece",
        "Whiskey Glasses | 20-50 | Lead-Free Crystal | 4 Pack; 6 Pack",
        "Large Ice Cube Tray | 10-22 | Silicone; 2 Inch Cubes | 2 Pack",
        "Cocktail Bitters Sampler | 20-45 | Aromatic and Orange | 3 Bottles",
        "Bar Mixing Glass | 20-45 | Seamless Thick Base | 18 oz; 24 oz",
    ),
    _motivation(
        "wine_tasting", "exploring wine at home", "Home & Kitchen", "Bar & Wine Tools",
        "brings out the best in every bottle",
        "Vineyard Row, Cellarmate, Decantia",
        "Wine Decanter | 25-80 | Hand-Blown Glass; Wide Base | 1.2 L; 1.8 L",
        "Electric Wine Opener | 20-50 | Rechargeable; Foil Cutter | Black; Silver",
        "Wine Glasses | 25-90 | Crystal Clear; Dishwasher Safe | Set of 4; Set of 6",
        "Wine Preserver Pump | 10-25 | Vacuum Stoppers | 4 Stoppers",
        "Countertop Wine Fridge | 150-450 | Dual Zone; Quiet Compressor | 18 Bottle; 28 Bottle",
    ),
    _motivation(
        "road_cycling", "getting into road cycling", "Sports & Outdoors", "Cycling",
        "tuned for long rides on open roads",
        "Velowerks, Chainline, Spoke & Crank, Tailwind Cycle",
        "Cycling Helmet | 45-180 | MIPS Protection; Ventilated Shell | Medium; Large",
        "Padded Bike Shorts | 30-90 | Chamois Pad; Compression Fit | Men's M; Women's S; Men's L",
        "Bike Computer | 60-300 | GPS; Turn-by-Turn Navigation | Standard",
        "Clipless Pedals | 40-160 | Adjustable Tension; Cleats Included | Road",
        "Bike Repair Kit | 15-40 | Multi-Tool; Tire Levers; Patch Kit | Compact",
        "Bike Light Set | 20-60 | USB Rechargeable; 800 Lumen Front | Front and Rear",
    ),
    _motivation(
        "bike_commuting", "commuting to work by bike", "Sports & Outdoors", "Cycling",
        "keeps the daily ride to work safe and dry",
        "Citypedal, Commuter Cog, Lanemark",
        "Bike Panniers | 35-110 | Waterproof Roll Top; Quick Mount | 20 L; 2 Pack",
        "U-Lock with Cable | 25-90 | Hardened Steel; Mounting Bracket | Standard",
        "Rain Jacket for Cycling | 50-150 | Reflective Piping; Packable | Medium; Large",
        "Bike Fenders | 20-50 | Full Coverage; Quick Release | 700c",
        "Rear Bike Rack | 25-70 | Aluminum; 55 lb Capacity | Standard",
    ),
    _motivation(
        "gaming_setup", "building a PC gaming setup", "Electronics", "Computer Accessories",
        "made for long sessions and competitive play",
        "Frag Labs, Pixelforge, Respawn Gear, Hyperlane",
        "Mechanical Gaming Keyboard | 50-180 | Hot-Swappable Switches; RGB Backlight | Full Size; 75%",
        "Gaming Mouse | 30-120 | 26000 DPI Sensor; Lightweight Shell | Wired; Wireless",
        "144Hz Gaming Monitor | 180-500 | 1 ms Response; IPS Panel | 24 Inch; 27 Inch",
        "Gaming Headset | 50-200 | 7.1 Surround Sound; Detachable Mic | Black; White",
        "Extended Mouse Pad | 12-35 | Stitched Edges; Non-Slip Base | XL; XXL",
        "Gaming Chair | 150-400 | Reclining Backrest; Lumbar Pillow | Black and Red; All Black",
    ),
    _motivation(
        "home_theater", "setting up a home theater", "Electronics", "Home Audio & Theater",
        "turns a living room into a movie night",
        "Cinemaxa, Soundstage Audio, Lumenview",
        "Soundbar with Subwoofer | 120-500 | Dolby Atmos; Wireless Sub | 3.1 Channel; 5.1 Channel",
        "Home Projector | 150-800 | 4K Support; 3000 Lumens | White",
        "Projector Screen | 50-160 | Pull-Down; Matte White | 100 Inch; 120 Inch",
        "HDMI Cable | 10-30 | 8K Certified; Braided | 6 ft; 10 ft; 2 Pack",
        "Universal Remote | 25-90 | Backlit Keys; Controls 8 Devices | Standard",
    ),
    _motivation(
        "first_apartment_kitchen", "equipping a first apartment kitchen", "Home & Kitchen", "Cookware",
        "covers the everyday basics of a first kitchen",
        "Starter Pantry, Panmate, Homewise Kitchen",
        "Nonstick Cookware Set | 60-220 | Ceramic Coating; Induction Compatible | 10 Piece; 12 Piece",
        "Chef's Knife | 25-120 | High Carbon Steel; Ergonomic Handle | 8 Inch",
        "Cutting Board Set | 20-50 | Juice Grooves; Dishwasher Safe | 3 Piece",
        "Mixing Bowls with Lids | 20-45 | Stainless Steel; Nesting | 5 Piece; 8 Piece",
        "Kitchen Utensil Set | 18-45 | Silicone Heads; Holder Included | 12 Piece; 24 Piece",
        "Dish Drying Rack | 20-50 | Drainboard; Utensil Holder | Black; White",
    ),
    _motivation(
        "meal_prep", "weekly meal prep", "Home & Kitchen", "Food Storage",
        "makes cooking for the week ahead simple",
        "Prep Pal, Batchwell, Lunchline",
        "Glass Meal Prep Containers | 25-55 | Snap Lids; Microwave Safe | 10 Pack; 20 Pack",
        "Sheet Pan Set | 20-45 | Aluminum; Warp Resistant | Half Sheet; 2 Pack",
        "Insulated Lunch Bag | 15-35 | Leakproof Lining; Shoulder Strap | Gray; Navy",
        "Vacuum Sealer | 45-150 | Dry and Moist Modes; Built-In Cutter | Standard",
        "Rice Cooker | 30-120 | Fuzzy Logic; Keep Warm | 6 Cup; 10 Cup",
    ),
    _motivation(
        "sous_vide", "cooking sous vide", "Home & Kitchen", "Small Appliances",
        "for precise, restaurant-style results at home",
        "Precisa Cook, Bathwater Labs, Low & Slow Kitchen",
        "Sous Vide Immersion Circulator | 70-200 | Wi-Fi Control; 1100 W | Black",
        "Sous Vide Container with Lid | 25-55 | Polycarbonate; Rack Included | 12 Qt; 18 Qt",
        "Reusable Vacuum Bags | 15-35 | Hand Pump; Sealing Clips | 20 Bags",
        "Cast Iron Searing Skillet | 25-80 | Pre-Seasoned; Helper Handle | 10 Inch; 12 Inch",
        "Butane Searing Torch | 20-50 | Adjustable Flame; Safety Lock | Standard",
    ),
    _motivation(
        "skincare_routine", "building a skincare routine", "Beauty & Personal Care", "Skin Care",
        "gentle enough for a daily morning and evening routine",
        "Dewlab, Calm Skin Co, Purelayer, Glowfield",
        "Hydrating Facial Cleanser | 10-30 | Fragrance Free; Ceramides | 6 oz; 12 oz",
        "Hyaluronic Acid Serum | 14-40 | Plumping; Lightweight | 1 fl oz",
        "Daily Moisturizer | 15-45 | Niacinamide; Non-Comedogenic | 1.7 oz; 3 oz",
        "Mineral Sunscreen | 12-35 | SPF 50; Zinc Oxide | 1.7 oz; 3 oz",
        "Retinol Night Cream | 18-55 | Slow Release; Soothing Botanicals | 1 oz",
    ),
    _motivation(
        "curly_hair_care", "caring for curly hair", "Beauty & Personal Care", "Hair Care",
        "defines curls without the crunch",
        "Coil & Co, Ringlet Lab, Wavehouse",
        "Sulfate-Free Curl Shampoo | 10-28 | Coconut Oil; Moisture Rich | 12 oz",
        "Curl Defining Cream | 12-30 | Frizz Control; Shea Butter | 8 oz",
        "Microfiber Hair Towel | 10-25 | Anti-Frizz; Button Loop | 2 Pack",
        "Diffuser Hair Dryer | 40-160 | Ionic Technology; Cool Shot | Standard",
        "Satin Bonnet | 8-18 | Double Layer; Adjustable Band | One Size",
    ),
    _motivation(
        "mens_shaving", "a proper wet shave", "Beauty & Personal Care", "Shave & Hair Removal",
        "for a close, comfortable shave",
        "Blade & Badger, Razorline, Old Harbor Shave",
        "Safety Razor | 25-60 | Double Edge; Chrome Finish | Standard",
        "Shaving Brush | 15-45 | Synthetic Bristles; Wooden Handle | Medium",
        "Shaving Soap | 10-25 | Sandalwood Scent; Rich Lather | 4 oz",
        "Aftershave Balm | 12-28 | Alcohol Free; Aloe Vera | 3.4 oz",
        "Double Edge Razor Blades | 8-20 | Stainless Steel | 50 Count; 100 Count",
    ),
    _motivation(
        "watercolor_painting", "learning watercolor painting", "Arts, Crafts & Sewing", "Painting, Drawing & Art Supplies",
        "a friendly start for loose, luminous paintings",
        "Brushstroke Studio, Pigmenta, Palette House",
        "Watercolor Paint Set | 20-80 | Professional Grade Pigments; Portable Tin | 24 Colors; 36 Colors",
        "Cold Press Watercolor Paper | 12-35 | 140 lb; Acid Free | 9 x 12 in; 12 Sheets",
        "Round Watercolor Brushes | 12-35 | Synthetic Sable; Fine Tips | 6 Piece; 10 Piece",
        "Porcelain Mixing Palette | 10-25 | Ten Wells | Round; Rectangular",
        "Masking Fluid | 8-18 | Removable; Fine Applicator | 1 oz",
    ),
    _motivation(
        "knitting", "taking up knitting", "Arts, Crafts & Sewing", "Knitting & Crochet",
        "soft, easy-to-work supplies for cozy projects",
        "Purl & Loop, Woolgather, Stitchcraft",
        "Merino Wool Yarn | 15-45 | Worsted Weight; Superwash | 4 Skeins; 6 Skeins",
        "Circular Knitting Needles | 12-40 | Bamboo Tips; Flexible Cable | US 8; Set of 12",
        "Stitch Markers | 6-14 | Locking; Assorted Colors | 100 Pack",
        "Project Bag | 15-35 | Drawstring; Inner Pockets | Medium",
        "Beginner Knitting Kit | 25-55 | Pattern Book Included; All Tools | Scarf Project",
    ),
    _motivation(
        "sewing_beginner", "learning to sew clothes", "Arts, Crafts & Sewing", "Sewing",
        "helps a new sewist finish a first garment",
        "Bobbin & Bolt, Seamline, Thimbleworks",
        "Computerized Sewing Machine | 150-400 | 60 Built-In Stitches; Automatic Threader | White",
        "Fabric Scissors | 15-35 | Stainless Steel; Soft Grip | 8 Inch; 9.5 Inch",
        "Self-Healing Cutting Mat | 20-45 | Gridlines; Double Sided | 18 x 24 in",
        "Rotary Cutter | 12-28 | Safety Lock; Spare Blades | 45 mm",
        "Sewing Thread Set | 12-30 | All Purpose Polyester | 24 Spools; 36 Spools",
        "Dress Form | 90-220 | Adjustable Size; Pinnable | Medium",
    ),
    _motivation(
        "woodworking", "a first woodworking bench", "Tools & Home Improvement", "Power & Hand Tools",
        "sturdy tools for careful work in a small shop",
        "Grain & Chisel, Dovetail Works, Timberline Tools",
        "Wood Chisel Set | 25-90 | Chrome Vanadium Steel; Beech Handles | 4 Piece; 6 Piece",
        "Bar Clamps | 20-60 | Quick Release; 300 lb Force | 12 Inch; 4 Pack",
        "Random Orbital Sander | 45-130 | Variable Speed; Dust Collection | 5 Inch",
        "Japanese Pull Saw | 20-50 | Double Edge; Fine Teeth | 9.5 Inch",
        "Wood Glue | 6-18 | Water Resistant; Fast Set | 16 oz; 1 Gallon",
        "Combination Square | 12-35 | Hardened Steel Rule; Level Vial | 12 Inch",
    ),
    _motivation(
        "home_repair_basics", "handling home repairs yourself", "Tools & Home Improvement", "Power & Hand Tools",
        "covers the fixes that come up around the house",
        "Fixright, Handyhouse, Toolwise",
        "Cordless Drill Driver | 60-180 | 20V Battery; LED Work Light | Kit with 2 Batteries",
        "Home Tool Kit | 30-90 | Hammer, Screwdrivers and Pliers; Storage Case | 65 Piece; 130 Piece",
        "Stud Finder | 18-50 | Edge Detection; AC Wire Warning | Standard",
        "Tape Measure | 10-25 | Magnetic Hook; Auto Lock | 25 ft; 30 ft",
        "Caulking Gun | 10-30 | Dripless; Smooth Rod | 10 oz",
        "Drill Bit Set | 18-50 | Titanium Coated | 29 Piece; 100 Piece",
    ),
    _motivation(
        "closet_organization", "organizing a crowded closet", "Home & Kitchen", "Storage & Organization",
        "brings order to a small closet",
        "Tidyline, Shelfwise, Neatnest",
        "Velvet Hangers | 20-45 | Non-Slip; Space Saving | 50 Pack; 100 Pack",
        "Hanging Closet Organizer | 15-35 | Six Shelves; Side Pockets | Gray; Beige",
        "Shoe Rack | 20-60 | Stackable; Metal Frame | 3 Tier; 5 Tier",
        "Drawer Dividers | 15-30 | Adjustable; Spring Loaded | 4 Pack",
        "Vacuum Storage Bags | 15-30 | Triple Seal; Hand Pump Included | 8 Pack; 12 Pack",
    ),
    _motivation(
        "pantry_organization", "organizing the pantry", "Home & Kitchen", "Storage & Organization",
        "keeps dry goods fresh and easy to find",
        "Jar & Label, Pantryline, Airtight Home",
        "Airtight Food Storage Containers | 25-60 | BPA Free; Locking Lids | 14 Piece; 24 Piece",
        "Lazy Susan Turntable | 12-30 | Non-Skid; Raised Edge | 10 Inch; 2 Pack",
        "Glass Spice Jars | 18-40 | Shaker Lids; Preprinted Labels | 24 Jars; 36 Jars",
        "Can Rack Organizer | 18-40 | Stackable; Holds 36 Cans | 2 Tier",
        "Wire Pantry Baskets | 20-45 | Built-In Handles | 4 Pack",
    ),
    _motivation(
        "deep_cleaning", "deep cleaning the house", "Health & Household", "Household Supplies",
        "tackles grime in every corner",
        "Scrubright, Sparkhaus, Cleanfold",
        "Spin Mop and Bucket | 30-70 | Microfiber Heads; Foot Pedal | Standard",
        "Cordless Stick Vacuum | 90-350 | 40 Min Runtime; HEPA Filter | Gray",
        "Grout Cleaning Brush Set | 8-20 | Stiff Bristles | 4 Piece",
        "Steam Cleaner | 60-180 | 19 Accessories; Chemical Free | Handheld; Canister",
        "Multi-Surface Cleaner Concentrate | 10-25 | Plant Based; Refillable | 32 oz; 2 Pack",
    ),
    _motivation(
        "better_sleep", "sleeping better as an adult", "Health & Household", "Sleep & Snoring",
        "helps wind down and sleep through the night",
        "Drowse, Nightfall Home, Slumberwell",
        "Memory Foam Pillow | 30-80 | Cooling Gel; Adjustable Loft | Queen; King",
        "Weighted Blanket | 45-140 | Glass Beads; Breathable Cover | 15 lb; 20 lb",
        "Contoured Sleep Mask | 10-25 | Zero Eye Pressure; Blocks Light | Black",
        "Sunrise Alarm Clock | 30-90 | Gradual Light; Nature Sounds | White",
        "Silicone Ear Plugs | 8-16 | Moldable; Reusable | 12 Pairs",
    ),
    _motivation(
        "car_detailing", "detailing the car at home", "Automotive", "Car Care",
        "for a showroom shine on a weekend",
        "Gleamworks, Autolustre, Detail Garage",
        "Car Wash Soap | 10-25 | pH Balanced; Thick Foam | 32 oz; 64 oz",
        "Foam Cannon | 25-60 | Adjustable Spray; Quick Connect | 1 L",
        "Ceramic Spray Coating | 18-45 | Hydrophobic; UV Protection | 16 oz",
        "Clay Bar Kit | 15-35 | Removes Contaminants; Lubricant Included | 2 Bars",
        "Wheel and Tire Brush Set | 15-35 | Soft Bristles; Long Reach | 4 Piece",
    ),
    _motivation(
        "road_trip", "a long road trip", "Automotive", "Interior Accessories",
        "keeps long hours in the car comfortable and safe",
        "Milemarker, Open Road Co, Dashbound",
        "Phone Car Mount | 15-45 | Magnetic; Dashboard and Vent | Black",
        "Portable Jump Starter | 60-150 | 2000A Peak; USB Power Bank | Standard",
        "Car Seat Back Organizer | 15-30 | Tablet Holder; Kick Mat | 2 Pack",
        "Tire Inflator | 35-90 | Digital Gauge; Auto Shut-Off | Cordless; 12V",
        "Roof Cargo Bag | 45-120 | Waterproof; Non-Slip Mat | 15 cu ft; 21 cu ft",
    ),
    _motivation(
        "beach_day", "a day at the beach", "Sports & Outdoors", "Beach & Pool",
        "easy to carry from the car to the sand",
        "Tidepool, Sandbar Supply, Shoreline Co",
        "Beach Umbrella | 30-80 | UPF 50+; Sand Anchor | 7 ft; 8 ft",
        "Beach Blanket | 20-50 | Sandproof; Quick Dry | Oversized",
        "Reef-Safe Sunscreen | 10-25 | SPF 50; Water Resistant | 3 oz; 2 Pack",
        "Beach Wagon | 70-160 | All-Terrain Wheels; Collapsible | Standard",
        "Snorkel Set | 25-60 | Dry Top; Anti-Fog Mask | Adult",
    ),
    _motivation(
        "swim_training", "lap swimming for fitness", "Sports & Outdoors", "Swimming",
        "for steady laps and better technique in the pool",
        "Laneline, Poolside Pro, Aquastroke",
        "Anti-Fog Swim Goggles | 12-35 | UV Protection; Mirrored Lenses | 2 Pack",
        "Silicone Swim Cap | 8-18 | Tear Resistant | Black; Blue",
        "Kickboard | 12-28 | EVA Foam; Ergonomic Grip | Standard",
        "Pull Buoy | 10-22 | Lightweight Foam | Adult",
        "Training Swim Fins | 20-50 | Short Blade; Soft Foot Pocket | Size 8-9; Size 10-11",
    ),
    _motivation(
        "fly_fishing", "learning fly fishing", "Sports & Outdoors", "Fishing",
        "ready for quiet mornings on the river",
        "Riffle & Run, Drift Co, Troutline",
        "Fly Rod and Reel Combo | 90-300 | 5 Weight; 4 Piece Travel | 9 ft",
        "Assorted Trout Flies | 15-35 | Dry Flies and Nymphs; Fly Box | 48 Flies; 72 Flies",
        "Chest Waders | 80-220 | Breathable; Stocking Foot | Medium; Large",
        "Fishing Vest | 35-90 | Sixteen Pockets; Rod Holder | One Size",
        "Fly Tying Kit | 35-110 | Vise and Tools; Materials Included | Beginner",
    ),
    _motivation(
        "guitar_beginner", "learning the acoustic guitar", "Musical Instruments", "Guitars",
        "a friendly start for a first guitar",
        "Fretwell, Six String Co, Soundhole Music",
        "Acoustic Guitar | 120-450 | Solid Spruce Top; Cutaway | Full Size; 3/4 Size",
        "Clip-On Guitar Tuner | 10-25 | Chromatic; Color Display | Black",
        "Guitar Strings | 6-16 | Phosphor Bronze; Light Gauge | 1 Set; 3 Sets",
        "Guitar Capo | 8-22 | Spring Loaded; Padded | Black; Silver",
        "Guitar Gig Bag | 25-70 | Padded; Backpack Straps | Full Size",
        "Guitar Picks | 5-12 | Assorted Thickness | 24 Pack",
    ),
    _motivation(
        "home_recording", "recording music at home", "Musical Instruments", "Studio Recording Equipment",
        "clean, quiet takes from a spare room",
        "Trackroom, Mixdown Audio, Signalpath",
        "USB Audio Interface | 80-250 | 2 Inputs; 24-Bit | Standard",
        "Studio Condenser Microphone | 90-300 | Large Diaphragm; Shock Mount | Black",
        "Studio Monitor Speakers | 120-400 | 5 Inch Woofer; Flat Response | Pair",
        "Acoustic Foam Panels | 25-60 | Sound Dampening; Wedge Pattern | 12 Pack; 24 Pack",
        "Closed-Back Studio Headphones | 60-200 | Detachable Cable; Low Coloration | Black",
        "XLR Microphone Cable | 10-25 | Shielded; Gold Contacts | 10 ft; 20 ft",
    ),
    _motivation(
        "kids_science", "hands-on science for kids", "Toys & Games", "Learning & Education",
        "makes science experiments fun for curious kids",
        "Little Lab, Eureka Kids, Brightspark",
        "Kids Science Kit | 20-50 | 40 Experiments; Safety Goggles | Ages 8+",
        "Beginner Microscope | 40-120 | 40x-1000x; Slides Included | Standard",
        "Crystal Growing Kit | 15-30 | Seven Crystals; Display Case | Ages 10+",
        "Kids Telescope | 50-150 | 70 mm Aperture; Tripod | Standard",
        "Snap Circuits Set | 30-90 | 100 Projects; No Soldering | Junior",
    ),
    _motivation(
        "toddler_play", "keeping a toddler busy", "Toys & Games", "Baby & Toddler Toys",
        "sturdy fun for busy little hands",
        "Tot Town, Wobble & Co, Tiny Builders",
        "Wooden Stacking Blocks | 20-45 | Non-Toxic Paint; Storage Bag | 50 Pieces",
        "Toddler Busy Board | 20-45 | Buckles, Zippers and Latches | Ages 1-3",
        "Ride-On Toy | 35-90 | Quiet Wheels; Storage Under Seat | Red; Blue",
        "Shape Sorter | 12-28 | Twelve Shapes | Ages 18M+",
        "Bath Toys Set | 10-25 | Mold Free; Floating | 8 Piece",
    ),
    _motivation(
        "board_game_night", "hosting a board game night", "Toys & Games", "Games",
        "a good reason to gather friends around the table",
        "Meeple Hall, Tabletop Tavern, Dice & Draw",
        "Strategy Board Game | 30-70 | 2-5 Players; 60 Minute Play | Base Game",
        "Cooperative Board Game | 25-55 | 1-4 Players; Campaign Mode | Standard",
        "Party Card Game | 15-30 | 4-10 Players; Quick Rounds | Standard",
        "Card Sleeves | 6-14 | Standard Size; Matte | 100 Pack",
        "Dice Tray | 12-30 | Vegan Leather; Folding | Black; Brown",
    ),
    _motivation(
        "travel_light", "traveling with a carry-on only", "Luggage & Travel Gear", "Travel Accessories",
        "packs more into a single carry-on",
        "Wayfarer Kit, Carryall, Jetlite",
        "Carry-On Suitcase | 80-280 | Hardshell; Spinner Wheels | 20 Inch; 22 Inch",
        "Packing Cubes | 15-35 | Compression Zippers | 6 Set; 8 Set",
        "Travel Neck Pillow | 15-40 | Memory Foam; Washable Cover | Gray; Navy",
        "Universal Travel Adapter | 15-40 | Four USB Ports; 150 Countries | White",
        "Toiletry Bag | 15-35 | Hanging Hook; Water Resistant | Medium",
    ),
    _motivation(
        "study_exams", "studying for exams", "Office Products", "Office & School Supplies",
        "keeps long study sessions focused and organized",
        "Notewise, Studyhall, Brightpage",
        "Spiral Notebooks | 10-25 | College Ruled; Perforated Pages | 5 Pack",
        "Highlighters | 6-15 | Chisel Tip; Pastel Colors | 12 Pack; 24 Pack",
        "Index Cards | 5-14 | Ruled; Color Coded | 300 Count; 500 Count",
        "Gel Pens | 8-20 | Quick Dry; Fine Point | 10 Pack; 20 Pack",
        "Whiteboard Easel | 25-70 | Magnetic; Height Adjustable | 24 x 36 in",
    ),
    _motivation(
        "home_security", "securing the home", "Electronics", "Security & Surveillance",
        "adds peace of mind while away",
        "Watchpost, Safehaven Tech, Doorwise",
        "Video Doorbell | 50-200 | 1080p HD; Motion Alerts | Wired; Battery",
        "Outdoor Security Camera | 40-180 | Color Night Vision; Weatherproof | 1 Pack; 2 Pack",
        "Smart Door Lock | 90-250 | Keypad Entry; Auto Lock | Satin Nickel; Matte Black",
        "Window Alarm Sensors | 15-35 | 120 dB; Easy Install | 4 Pack; 8 Pack",
        "Motion Sensor Floodlight | 30-80 | LED; Dusk to Dawn | Two Heads; Three Heads",
    ),
    _motivation(
        "smart_home", "automating the home", "Electronics", "Smart Home",
        "makes everyday routines hands-free",
        "Homesync, Brightnode, Switchly",
        "Smart Plug | 15-35 | Voice Control; Energy Monitoring | 2 Pack; 4 Pack",
        "Smart Light Bulbs | 20-50 | Color Changing; Dimmable | 2 Pack; 4 Pack",
        "Smart Thermostat | 90-250 | Learning Schedule; Remote Control | White; Black",
        "Smart Speaker with Display | 50-150 | Voice Assistant; 8 Inch Screen | Charcoal",
        "Smart Home Hub | 40-120 | Zigbee and Z-Wave | Standard",
    ),
    _motivation(
        "hiit_cardio", "high-intensity cardio at home", "Sports & Outdoors", "Exercise & Fitness",
        "for short, sweaty workouts in a small space",
        "Burnpoint, Cardiocore, Sweatline",
        "Speed Jump Rope | 10-30 | Ball Bearings; Adjustable Cable | 10 ft",
        "Kettlebell | 25-90 | Cast Iron; Wide Handle | 16 lb; 26 lb; 35 lb",
        "Exercise Mat | 20-50 | Extra Thick; Carry Strap | 10 mm; 15 mm",
        "Plyometric Box | 60-150 | Three Heights in One; Foam | 20/24/30 Inch",
        "Heart Rate Chest Strap | 40-90 | Bluetooth and ANT+ | Standard",
    ),
    _motivation(
        "aging_parent_care", "helping an aging parent at home", "Health & Household", "Home Medical Supplies",
        "helps an older relative stay safe and independent",
        "Steadyhome, Carewell, Silverstep",
        "Shower Chair | 35-90 | Adjustable Height; Non-Slip Feet | With Back",
        "Grab Bars | 20-50 | Stainless Steel; Textured Grip | 16 Inch; 2 Pack",
        "Weekly Pill Organizer | 8-20 | AM/PM Compartments; Large Print | 2 Pack",
        "Lightweight Walker | 60-160 | Folding; Front Wheels | Standard",
        "Reacher Grabber Tool | 12-28 | Rotating Jaw; 32 Inch | 2 Pack",
    ),
    _motivation(
        "wedding_planning", "planning a DIY wedding", "Arts, Crafts & Sewing", "Party Decorations",
        "adds handmade charm to a big day",
        "Vowcraft, Petal & Lace, Something Blue",
        "Guest Book | 20-50 | Linen Cover; Pen Included | Ivory",
        "Artificial Flower Garland | 20-55 | Eucalyptus Leaves | 6 ft; 2 Pack",
        "LED Fairy String Lights | 12-35 | Warm White; Battery Operated | 33 ft; 4 Pack",
        "Wedding Invitation Kit | 30-80 | Printable; Envelopes Included | 50 Sets",
        "Table Number Holders | 15-35 | Gold Metal; Card Clip | 10 Pack; 20 Pack",
    ),
)
# fmt: on

# Shared products: one listing plausibly serves each of these motivations (the item's second motivation).
# fmt: off
SHARED_PRODUCT_TYPES: tuple[SharedProductType, ...] = tuple(
    SharedProductType(parse_product_type(line), tuple(keys.split()), main_category, subcategory)
    for line, keys, main_category, subcategory in (
        ("Insulated Water Bottle | 14-40 | Leak-Proof Lid; Double-Wall Vacuum | 24 oz; 32 oz; 40 oz",
         "first_marathon trail_running day_hiking home_gym_strength road_cycling yoga_practice hiit_cardio bike_commuting",
         "Sports & Outdoors", "Accessories"),
        ("Digital Kitchen Timer | 6-20 | Magnetic Back; Loud Alarm | White; Black",
         "sourdough_baking pour_over_coffee sous_vide cake_decorating study_exams meal_prep",
         "Home & Kitchen", "Kitchen Utensils & Gadgets"),
        ("Digital Kitchen Scale | 10-45 | 0.1 g Precision; Tare Function | Black; Silver",
         "home_espresso pour_over_coffee sourdough_baking meal_prep cake_decorating",
         "Home & Kitchen", "Kitchen Utensils & Gadgets"),
        ("Instant Read Thermometer | 12-40 | Two-Second Reading; Backlit Display | Red; Black",
         "backyard_bbq sous_vide sourdough_baking baby_feeding",
         "Home & Kitchen", "Kitchen Utensils & Gadgets"),
        ("LED Headlamp | 12-40 | Rechargeable; Red Light Mode | 350 Lumens; 2 Pack",
         "camping_weekend day_hiking trail_running fly_fishing home_repair_basics",
         "Sports & Outdoors", "Accessories"),
        ("Soft Cooler Bag | 25-80 | Leakproof; Keeps Ice Two Days | 24 Can; 36 Can",
         "backyard_bbq camping_weekend beach_day road_trip fly_fishing",
         "Sports & Outdoors", "Accessories"),
        ("Portable Bluetooth Speaker | 30-120 | Waterproof; 20 Hour Battery | Black; Teal",
         "backyard_bbq beach_day home_gym_strength camping_weekend hiit_cardio",
         "Electronics", "Portable Audio"),
        ("LED Desk Lamp | 20-60 | Adjustable Color Temperature; USB Charging Port | Black; White",
         "remote_work_ergonomics study_exams sewing_beginner watercolor_painting knitting",
         "Office Products", "Lighting"),
        ("Fabric Storage Bins | 15-40 | Collapsible; Dual Handles | 6 Pack; 8 Pack",
         "closet_organization pantry_organization toddler_play newborn_sleep knitting",
         "Home & Kitchen", "Storage & Organization"),
        ("Surge Protector Power Strip | 15-45 | 12 Outlets; USB-C Ports | 6 ft; 10 ft",
         "gaming_setup home_theater remote_work_ergonomics home_recording smart_home",
         "Electronics", "Power Accessories"),
        ("First Aid Kit | 15-45 | 200 Pieces; Compact Case | Standard",
         "camping_weekend day_hiking road_trip new_puppy aging_parent_care",
         "Health & Household", "First Aid"),
        ("Microfiber Cleaning Towels | 10-28 | Lint Free; Machine Washable | 12 Pack; 24 Pack",
         "car_detailing deep_cleaning home_gym_strength swim_training",
         "Health & Household", "Household Supplies"),
        ("Foam Roller | 15-40 | High Density; Textured Surface | 13 Inch; 18 Inch",
         "first_marathon yoga_practice home_gym_strength hiit_cardio trail_running",
         "Sports & Outdoors", "Exercise & Fitness"),
        ("White Noise Machine | 20-50 | Thirty Soothing Sounds; Night Light | White",
         "newborn_sleep better_sleep remote_work_ergonomics",
         "Health & Household", "Sleep & Snoring"),
        ("Cool Mist Humidifier | 30-80 | Whisper Quiet; Auto Shut-Off | 2.5 L; 4 L",
         "newborn_sleep houseplants better_sleep skincare_routine",
         "Home & Kitchen", "Heating, Cooling & Air Quality"),
        ("Label Maker | 20-50 | Bluetooth; Tape Included | Standard",
         "pantry_organization closet_organization study_exams home_recording",
         "Office Products", "Labeling"),
        ("Fine Mist Spray Bottle | 6-15 | Continuous Spray; Refillable | 10 oz; 2 Pack",
         "houseplants curly_hair_care deep_cleaning car_detailing",
         "Health & Household", "Household Supplies"),
        ("Canvas Apron | 15-35 | Adjustable Neck Strap; Tool Pockets | Charcoal; Khaki",
         "backyard_bbq sourdough_baking woodworking watercolor_painting cake_decorating",
         "Home & Kitchen", "Kitchen & Table Linens"),
        ("Work Gloves | 10-25 | Touchscreen Fingertips; Breathable | Medium; Large",
         "vegetable_garden woodworking home_repair_basics car_detailing",
         "Tools & Home Improvement", "Safety"),
        ("Microfiber Quick-Dry Towel | 15-35 | Compact; Carry Pouch | Large; XL",
         "beach_day swim_training camping_weekend travel_light yoga_practice",
         "Sports & Outdoors", "Accessories"),
        ("Portable Power Bank | 20-60 | 20000 mAh; Fast Charging | Black; White",
         "travel_light road_trip camping_weekend video_calls",
         "Electronics", "Power Accessories"),
        ("Wireless Earbuds | 30-150 | Noise Cancelling; Sweatproof | Black; White",
         "first_marathon home_gym_strength video_calls travel_light",
         "Electronics", "Headphones"),
        ("Party Serving Platter Set | 20-50 | Melamine; Dishwasher Safe | 3 Piece",
         "backyard_bbq board_game_night wedding_planning",
         "Home & Kitchen", "Serveware"),
        ("Baby Gate | 30-80 | Walk-Through Door; Pressure Mounted | 29-38 Inch",
         "toddler_play new_puppy",
         "Baby", "Safety"),
        ("Rolling Cart Organizer | 25-60 | Three Tiers; Locking Wheels | White; Gray",
         "knitting watercolor_painting sewing_beginner pantry_organization",
         "Home & Kitchen", "Storage & Organization"),
        ("Rechargeable Tea Light Candles | 20-40 | Flickering Flame; Remote Control | 12 Pack",
         "wedding_planning home_theater better_sleep",
         "Home & Kitchen", "Home Decor"),
        ("Wall Mounted Pegboard Kit | 25-70 | Hooks and Shelves Included | 2 Panels",
         "woodworking home_repair_basics sewing_beginner",
         "Tools & Home Improvement", "Garage Storage"),
        ("Clip-On Ring Light | 12-30 | Rechargeable; Three Brightness Levels | Single",
         "video_calls skincare_routine home_recording",
         "Electronics", "Lighting"),
    )
)
# fmt: on

# Model words and numbers: listing titles read "Brand Model Noun, attribute, variant".
MODEL_WORDS: tuple[str, ...] = (
    "Pro", "Lite", "Max", "One", "Go", "Plus", "Air", "Flex", "Core", "Prime", "Edge", "Nova",
    "Terra", "Zen", "Arc", "Pulse", "Classic", "Studio", "Sport", "Essential", "Select", "Trek",
)  # fmt: skip
MODEL_SUFFIXES: tuple[str, ...] = ("", "", "2", "3", "X", "S", "200", "360", "500", "Mini", "XL", "II")

# Brands of the shared, general-purpose products (they are not tied to one hobby).
GENERAL_BRANDS: tuple[str, ...] = (
    "Everyday Goods", "Brightway", "Homeline Basics", "Kestrel", "Oakridge", "Northwind Supply",
    "Simplicity Co", "Trueform",
)  # fmt: skip

# Sentences for descriptions and features (our own words), picked at random per item.
DESCRIPTION_OPENERS: tuple[str, ...] = (
    "Thoughtfully designed and built to last.",
    "Made from durable materials that hold up to daily use.",
    "A reliable choice at a fair price.",
    "Tested for quality before it leaves the warehouse.",
    "Clean lines and a practical design.",
    "Easy to set up straight out of the box.",
    "Compact enough to store, sturdy enough to rely on.",
    "Our most popular design, refined over several versions.",
)
GENERIC_FEATURES: tuple[str, ...] = (
    "Backed by a one-year warranty",
    "Easy to clean",
    "Lightweight and portable",
    "Includes a quick start guide",
    "Gift-ready packaging",
    "Responsive customer support",
    "Satisfaction guaranteed",
)

# Review titles and sentences per star rating (index 0 = 1 star … 4 = 5 stars).
REVIEW_TITLES: tuple[tuple[str, ...], ...] = (
    ("Very disappointed", "Broke quickly", "Would not buy again", "Not as described", "Returned it"),
    ("Not great", "Below expectations", "Okay at best", "Had some issues", "Meh"),
    ("It's fine", "Does the job", "Average", "Decent for the price", "Mixed feelings"),
    ("Pretty good", "Solid purchase", "Works well", "Happy with it", "Good value"),
    ("Love it", "Exactly what I needed", "Excellent quality", "Five stars", "Highly recommend"),
)
REVIEW_SENTENCES: tuple[tuple[str, ...], ...] = (
    ("stopped working after a few uses", "arrived damaged and feels cheap", "was nothing like the photos"),
    ("works but feels flimsy", "needed more fiddling than I expected", "is smaller than I thought"),
    ("does what it says, nothing more", "is okay but the finish could be better", "works fine for now"),
    ("works well and feels sturdy", "was easy to set up", "is good quality for the money"),
    ("is fantastic and well made", "works perfectly, I use it every day", "exceeded my expectations"),
)


def validate_vocabulary() -> None:
    """Check the invariants the generator relies on (unique keys, shared types point at real keys)."""
    keys = [motivation.key for motivation in MOTIVATIONS]
    if len(set(keys)) != len(keys):
        raise ValueError("motivation keys must be unique")
    names = [motivation.name for motivation in MOTIVATIONS]
    if len(set(names)) != len(names):
        raise ValueError("motivation names must be unique")
    known = set(keys)
    for shared in SHARED_PRODUCT_TYPES:
        unknown = set(shared.motivation_keys) - known
        if unknown:
            raise ValueError(
                f"shared product {shared.product_type.noun!r} names unknown motivations {unknown}"
            )
        if len(shared.motivation_keys) < 2:
            raise ValueError(f"shared product {shared.product_type.noun!r} needs at least two motivations")
    for motivation in MOTIVATIONS:
        if len(motivation.product_types) < 4 or len(motivation.brands) < 3:
            raise ValueError(f"motivation {motivation.key!r} needs ≥ 4 product types and ≥ 3 brands")


validate_vocabulary()
