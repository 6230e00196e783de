package scenario

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// candidate is one of the five main candidates of 2017. Leanings and
// network targets are indexes into candidates.
type candidate struct {
	id, name, short     string
	handle, partyHandle string // official accounts, posted as popular accounts
	site                string // campaign site, linked by the official accounts
	favour, smear       []string
}

var candidates = [noLeaning]candidate{
	{"macron", "Emmanuel Macron", "Macron", "EmmanuelMacron", "enmarchefr", "en-marche.fr",
		[]string{"JeVoteMacron", "EnMarche", "Macron"}, []string{"StopMacron", "ToutSaufMacron"}},
	{"lepen", "Marine Le Pen", "Le Pen", "MLP_officiel", "FN_officiel", "marine2017.fr",
		[]string{"Marine2017", "AuNomDuPeuple", "MLP"}, []string{"FaceAuFN", "JamaisLePen"}},
	{"fillon", "François Fillon", "Fillon", "FrancoisFillon", "lesRepublicains", "fillon2017.fr",
		[]string{"Fillon2017", "FillonPresident"}, []string{"Penelopegate", "RendsLArgent"}},
	{"melenchon", "Jean-Luc Mélenchon", "Mélenchon", "JLMelenchon", "FranceInsoumise", "avenirencommun.fr",
		[]string{"JLM2017", "FranceInsoumise", "SansMoiLe7Mai"}, []string{"MelenchonDanger"}},
	{"hamon", "Benoît Hamon", "Hamon", "benoithamon", "partisocialiste", "benoithamon2017.fr",
		[]string{"Hamon2017", "FaireBattreLeCoeurDeLaFrance"}, []string{"HamonDehors"}},
}

func candidateIndex(id string) int {
	for i, c := range candidates {
		if c.id == id {
			return i
		}
	}
	return -1
}

// A template is a sentence with {slot}s, optionally prefixed by a gate
// ("debate|", "leaks|", "camp|", "reserve|") that restricts it to a phase
// of the race, so nobody mentions #MacronLeaks before the dump or quotes
// the debate the morning before it.
type gate uint8

const (
	gateAny      gate = iota
	gateDebate        // the debate evening and the next day
	gateLeaks         // after the #MacronLeaks dump
	gateCampaign      // before the official end of the campaign
	gateReserve       // after it: no more campaigning, polls or candidate posts
)

func gateOpen(g gate, ms int64) bool {
	switch g {
	case gateDebate:
		return ms >= debateStart.UnixMilli()-3*3600_000 && ms < debateStart.UnixMilli()+24*3600_000
	case gateLeaks:
		return ms >= leaksDump.UnixMilli()
	case gateCampaign:
		return ms < reserveStart.UnixMilli()
	case gateReserve:
		return ms >= reserveStart.UnixMilli()
	}
	return true
}

func splitGate(s string) (gate, string) {
	for prefix, g := range map[string]gate{"debate|": gateDebate, "leaks|": gateLeaks, "camp|": gateCampaign, "reserve|": gateReserve} {
		if strings.HasPrefix(s, prefix) {
			return g, s[len(prefix):]
		}
	}
	return gateAny, s
}

// choose returns a template from tpls open at ms with its gate stripped,
// or "" when none is open.
func choose(r *rng, tpls []string, ms int64) string {
	for range 20 {
		g, s := splitGate(pick(r, tpls))
		if gateOpen(g, ms) {
			return s
		}
	}
	for _, t := range tpls {
		if g, s := splitGate(t); g == gateAny {
			return s
		}
	}
	return ""
}

var slots = map[string][]string{
	"M":        {"Macron", "Macron", "Emmanuel Macron", "@EmmanuelMacron"},
	"LP":       {"Marine Le Pen", "Le Pen", "Marine", "@MLP_officiel"},
	"JLM":      {"Mélenchon", "Jean-Luc Mélenchon", "@JLMelenchon"},
	"F":        {"Fillon", "François Fillon"},
	"H":        {"Hamon", "Benoît Hamon"},
	"Men":      {"Macron", "Emmanuel Macron"},
	"LPen":     {"Le Pen", "Marine Le Pen"},
	"topic":    {"l'emploi", "le chômage", "l'euro", "l'Europe", "la sécurité", "le terrorisme", "l'immigration", "les retraites", "la loi travail", "le pouvoir d'achat", "l'école", "la santé", "la laïcité", "l'écologie", "la dette", "les impôts", "l'agriculture", "le logement"},
	"Topic":    {"Emploi", "Chômage", "Euro", "Sécurité", "Retraites", "Loi travail", "Pouvoir d'achat", "École", "Santé", "Impôts", "Agriculture", "Logement"},
	"topicLP":  {"l'immigration", "la sécurité", "le terrorisme", "l'euro", "la souveraineté", "les frontières", "la mondialisation", "le patriotisme économique"},
	"topicEN":  {"the euro", "immigration", "security", "jobs", "the EU", "terrorism", "pensions"},
	"city":     {"Paris", "Lyon", "Marseille", "Lille", "Toulouse", "Bordeaux", "Nantes", "Strasbourg", "Nice", "Rennes", "Montpellier", "Arras", "Albi", "Rodez", "Reims", "Dijon", "Amiens", "Perpignan"},
	"feel":     {"honteux", "lamentable", "inquiétant", "navrant", "consternant", "affligeant", "édifiant"},
	"day":      {"dimanche", "le 7 mai", "au second tour"},
	"reasonM":  {"l'Europe", "rassembler", "l'avenir de nos enfants", "faire barrage à l'extrême droite", "le renouveau", "l'emploi", "une France ouverte"},
	"reasonLP": {"la France", "nos frontières", "notre souveraineté", "la sécurité des Français", "le peuple", "nos emplois"},
	"emoji":    {"🇫🇷", "👏", "💪", "😡", "🤔", "🙄", "👉", "🔥"},
}

// fill replaces each {slot} of tpl. {n} is a second-round poll score for
// Macron and {rest} the matching Le Pen score, so the two always add up.
func fill(r *rng, tpl string) string {
	if !strings.Contains(tpl, "{") {
		return tpl
	}
	var b strings.Builder
	n := 58 + r.intn(7)
	for {
		i := strings.IndexByte(tpl, '{')
		if i < 0 {
			b.WriteString(tpl)
			return b.String()
		}
		j := strings.IndexByte(tpl[i:], '}')
		if j < 0 {
			b.WriteString(tpl)
			return b.String()
		}
		b.WriteString(tpl[:i])
		switch name := tpl[i+1 : i+j]; name {
		case "n":
			b.WriteString(strconv.Itoa(n))
		case "rest":
			b.WriteString(strconv.Itoa(100 - n))
		default:
			if vs, ok := slots[name]; ok {
				b.WriteString(pick(r, vs))
			} else {
				b.WriteString(tpl[i : i+j+1])
			}
		}
		tpl = tpl[i+j+1:]
	}
}

// leaning indexes organic templates: a candidate index, or noLeaning for
// undecided users and those who talk about the race without taking sides.
const noLeaning = 5

var organicFR = [noLeaning + 1][]string{
	{ // macron
		"Le 7 mai, je vote {M} pour {reasonM}.",
		"{M} a été clair sur {topic} : enfin un projet crédible.",
		"Face au FN, pas d'hésitation : {M} {day}.",
		"Le Pen n'a aucun chiffrage sur {topic}, c'est {feel}.",
		"Le programme de {M} sur {topic} tient la route, lisez-le avant de critiquer.",
		"Sortir de l'euro serait une catastrophe pour notre pouvoir d'achat.",
		"camp|Meeting de {M} à {city} : salle comble et beaucoup de jeunes.",
		"Je ne suis pas macroniste mais {day}, c'est barrage.",
		"debate|{M} a gagné le débat, Le Pen n'avait rien préparé sur {topic}.",
		"debate|Le Pen qui confond SFR et Alstom en direct... {feel}.",
		"leaks|Un piratage de l'équipe de {M} quelques heures avant la fin de la campagne, ça ne doit rien au hasard.",
		"camp|Porte-à-porte ce matin à {city} avec les marcheurs, très bon accueil.",
		"reserve|Plus que quelques heures. Allez voter {day}, chaque voix compte.",
	},
	{ // lepen
		"Marine est la seule à parler vraiment de {topicLP}.",
		"{M}, c'est Hollande en pire : le candidat de la finance.",
		"Le 7 mai, votez Marine pour {reasonLP}.",
		"Les médias font campagne pour {M}, c'est {feel}.",
		"Protéger nos frontières, ce n'est pas un crime.",
		"camp|Meeting de Marine à {city} : les Français veulent retrouver leur souveraineté.",
		"debate|Ce soir Marine a parlé aux Français qui souffrent, {M} a parlé aux banquiers.",
		"debate|{M} n'a rien répondu sur {topicLP}. Marine l'a mis face à ses contradictions.",
		"leaks|Qu'y a-t-il dans les mails de {M} ? Les médias vont-ils enfin enquêter ?",
		"{M} veut une France ouverte à tous les vents. Pas nous.",
		"Ouvriers, agriculteurs, retraités : {day}, c'est Marine.",
	},
	{ // fillon
		"{F} a appelé à voter {M}, je respecte mais je ne suivrai pas.",
		"La droite doit se reconstruire pour les législatives.",
		"Sans les affaires, {F} serait au second tour, tout le monde le sait.",
		"Je voterai {M} sans enthousiasme, pour éviter le pire.",
		"La droite républicaine ne doit pas se perdre avec le FN.",
		"Dupont-Aignan avec Le Pen, Sens commun qui hésite : la droite se déchire sur le second tour.",
		"Sur {topic}, ni {M} ni Le Pen ne proposent quelque chose de sérieux.",
	},
	{ // melenchon
		"Ni Le Pen ni {M} : {day}, je vote blanc.",
		"Les 7 millions d'insoumis ne sont pas à vendre.",
		"Voter {M} pour faire barrage puis subir la loi travail par ordonnances ? Non merci.",
		"Pas une voix pour le FN, mais pas de chèque en blanc à {M} non plus.",
		"{JLM} avait le seul programme écologique sérieux.",
		"debate|Le débat de ce soir : deux visions du libéralisme. Triste.",
		"La consultation des insoumis : 65 % pour le vote blanc ou l'abstention.",
		"Rendez-vous aux législatives pour une majorité insoumise.",
		"Le vrai sujet c'est {topic} et personne n'en parle au second tour.",
	},
	{ // hamon
		"{H} avait raison sur le revenu universel, on en reparlera.",
		"Le PS sort de cette élection en miettes, il faudra reconstruire la gauche.",
		"Je vote {M} {day}, contre l'extrême droite, pas pour son programme.",
		"La gauche ne se relèvera qu'en parlant de {topic}.",
	},
	{ // no leaning
		"debate|Qui a gagné le débat selon vous ?",
		"debate|Débat {feel} ce soir. Aucun des deux n'a parlé sérieusement de {topic}.",
		"debate|On attendait un débat sur {topic}, on a eu un concours d'invectives.",
		"L'abstention risque d'être record {day}.",
		"Toujours indécis pour {day}. Blanc, {M} ou abstention ?",
		"camp|Sondage : {M} à {n} %, Le Pen à {rest} % au second tour.",
		"camp|À quelques jours du vote, personne ne parle de {topic}.",
		"reserve|Période de réserve : plus de sondages ni de propagande jusqu'à dimanche 20h.",
		"N'oubliez pas votre pièce d'identité {day} pour voter.",
		"Ma famille est complètement divisée sur le second tour.",
		"Quel que soit le résultat {day}, il faudra parler de {topic}.",
		"leaks|Des documents attribués à l'équipe de {M} circulent. Prudence avant de relayer quoi que ce soit.",
		"leaks|La commission de contrôle demande de ne pas relayer les documents. On verra bien.",
		"Le second tour le plus étrange de la Ve République.",
		"Les procurations explosent à {city} avant {day}.",
	},
}

var organicEN = [noLeaning + 1][]string{
	{"{Men} is the best hope for a strong Europe.", "France should not follow Brexit and Trump. Go {Men}!", "debate|{Men} crushed {LPen} in the debate tonight."},
	{"{LPen} is France's last chance to take back control.", "Globalist {Men} is the candidate of the banks.", "leaks|The media refuses to cover the Macron emails. Why?"},
	{"The French right is split over the runoff."},
	{"The French left will not vote for {Men} or {LPen}."},
	{"The French Socialist party is in pieces."},
	{
		"debate|Watching the French presidential debate. {Men} vs {LPen} is brutal.",
		"France votes on Sunday: {Men} leads {LPen} in every poll.",
		"What happens to the euro if {LPen} wins? Markets are nervous.",
		"leaks|Hacked emails from the {Men} campaign dumped hours before the French media blackout.",
		"The French runoff is a referendum on Europe.",
		"Turnout will decide the French election on Sunday.",
		"What {LPen} and {Men} propose on {topicEN}, side by side.",
	},
}

var openersFR = []string{"Franchement, ", "Bon. ", "Sérieusement, ", "Je le dis depuis des semaines : ", "Rappel : ", "Ce matin à {city} : ", "Perso, "}

// tagsFor returns the hashtags an organic user of this leaning adds.
func tagsFor(lean int, lang string, ms int64) []string {
	var t []string
	if lang == "en" {
		t = append(t, "FrenchElection", "Presidentielle2017")
	} else {
		t = append(t, "Presidentielle2017", "2ndTour", "Presidentielle2017")
	}
	if gateOpen(gateDebate, ms) {
		t = append(t, "DebatPresidentiel", "2017LeDebat")
	}
	if lean < noLeaning {
		t = append(t, candidates[lean].favour...)
	}
	if gateOpen(gateLeaks, ms) && (lean == 1 || lang == "en") {
		t = append(t, "MacronLeaks")
	}
	return t
}

// Media and their article URL shapes, after the real sites of 2017.
type outlet struct {
	handle, name, domain string
	lang                 string
	pop                  float64 // relative reach: how often they get retweeted
}

var outlets = []outlet{
	{"lemondefr", "Le Monde", "lemonde.fr", "fr", 3},
	{"Le_Figaro", "Le Figaro", "lefigaro.fr", "fr", 2.5},
	{"libe", "Libération", "liberation.fr", "fr", 2},
	{"BFMTV", "BFMTV", "bfmtv.com", "fr", 3},
	{"franceinfo", "franceinfo", "francetvinfo.fr", "fr", 2.5},
	{"le_Parisien", "Le Parisien", "leparisien.fr", "fr", 1.8},
	{"20Minutes", "20 Minutes", "20minutes.fr", "fr", 1.8},
	{"Europe1", "Europe 1", "europe1.fr", "fr", 1.2},
	{"LCI", "LCI", "lci.fr", "fr", 1.2},
	{"France24_fr", "FRANCE 24", "france24.com", "fr", 1},
	{"Mediapart", "Mediapart", "mediapart.fr", "fr", 1.3},
	{"LExpress", "L'Express", "lexpress.fr", "fr", 1},
	{"lobs", "L'Obs", "nouvelobs.com", "fr", 1},
	{"afpfr", "Agence France-Presse", "afp.com", "fr", 1.5},
	{"RFI", "RFI", "rfi.fr", "fr", 0.8},
	{"LesEchos", "Les Echos", "lesechos.fr", "fr", 0.8},
	{"Valeurs", "Valeurs actuelles", "valeursactuelles.com", "fr", 0.9},
	{"humanite_fr", "L'Humanité", "humanite.fr", "fr", 0.7},
	{"Reuters", "Reuters", "reuters.com", "en", 1.2},
	{"BBCWorld", "BBC News (World)", "bbc.com", "en", 1.2},
	{"guardian", "The Guardian", "theguardian.com", "en", 0.9},
	{"POLITICOEurope", "POLITICO Europe", "politico.eu", "en", 0.7},
}

var titlesFR = []string{
	"debate|Présidentielle : ce qu'il faut retenir du débat entre {M} et {LP}",
	"debate|Débat de l'entre-deux-tours : les moments clés",
	"debate|Vérification : les intox du débat {M}-{LP}",
	"camp|Sondage : {M} à {n} %, Le Pen à {rest} %",
	"Second tour : {F} et Les Républicains divisés",
	"La France insoumise publie le résultat de sa consultation",
	"Les questions que pose le programme de Marine Le Pen sur {topic}",
	"Ce que propose {M} sur {topic}",
	"leaks|MacronLeaks : ce que l'on sait du piratage de l'équipe d'En marche !",
	"leaks|Fuite de documents : la commission électorale appelle à ne pas les relayer",
	"reserve|Présidentielle : la période de réserve a commencé",
	"Abstention : les chiffres qui inquiètent",
	"camp|Dans les pas d'Emmanuel Macron à {city}",
	"camp|Avec les militants FN à {city}",
	"Procurations : une hausse record avant le second tour",
	"Ce que dit la loi sur le vote blanc",
	"{Topic} : ce qui change selon le vainqueur",
	"Législatives : les partis préparent déjà juin",
	"À {city}, des électeurs de gauche face au dilemme du second tour",
}

var titlesEN = []string{
	"debate|France's Macron and Le Pen clash in bitter TV debate",
	"French election: what you need to know",
	"leaks|Macron campaign says it was hit by massive hacking attack",
	"Le Pen's euro exit plan worries markets",
	"Why the French left is torn over the runoff",
}

// articleURL returns an article link shaped like the outlet's real ones.
func articleURL(r *rng, domain, title string, ms int64) string {
	slug := slugify(title)
	t := timeOf(ms)
	ymd, y, m, d := t.Format("2006/01/02"), t.Format("2006"), t.Format("01"), t.Format("02")
	num := strconv.Itoa(5100000 + r.intn(900000))
	switch domain {
	case "lemonde.fr":
		return "https://www.lemonde.fr/election-presidentielle-2017/article/" + ymd + "/" + slug + "_" + num + "_4854003.html"
	case "lefigaro.fr":
		return "https://www.lefigaro.fr/elections/presidentielles/" + ymd + "/35003-" + y + m + d + "ARTFIG00" + num[4:] + "-" + slug + ".php"
	case "liberation.fr":
		return "https://www.liberation.fr/elections-presidentielle-legislatives-2017/" + ymd + "/" + slug + "_1" + num[1:]
	case "bfmtv.com":
		return "https://www.bfmtv.com/politique/" + slug + "-1" + num[1:] + ".html"
	case "francetvinfo.fr":
		return "https://www.francetvinfo.fr/elections/presidentielle/" + slug + "_2" + num[1:] + ".html"
	case "leparisien.fr":
		return "https://www.leparisien.fr/elections/presidentielle/" + slug + "-" + d + "-" + m + "-" + y + "-6" + num[1:] + ".php"
	case "20minutes.fr":
		return "https://www.20minutes.fr/elections/20" + num[2:] + "-" + y + m + d + "-" + slug
	case "reuters.com":
		return "https://www.reuters.com/article/us-france-election-" + slug + "-idUSKBN18" + strings.ToUpper(strconv.FormatInt(int64(r.intn(1<<20)), 36))
	case "theguardian.com", "bbc.com":
		return "https://www." + domain + "/world/" + ymd + "/" + slug
	}
	return "https://www." + domain + "/politique/" + ymd + "/" + slug + "-" + num
}

// fringeURL returns an article link on a fringe blog: WordPress-shaped, as
// most of them were.
func fringeURL(domain, title string, ms int64) string {
	return "https://" + domain + "/" + timeOf(ms).Format("2006/01/02") + "/" + slugify(title) + "/"
}

var accentFold = strings.NewReplacer(
	"à", "a", "â", "a", "ä", "a", "é", "e", "è", "e", "ê", "e", "ë", "e", "î", "i", "ï", "i",
	"ô", "o", "ö", "o", "ù", "u", "û", "u", "ü", "u", "ç", "c", "œ", "oe", "æ", "ae",
	"À", "a", "É", "e", "È", "e", "Ê", "e", "Ç", "c", "Ô", "o", "Î", "i",
)

// slugify turns a title into a URL slug: lower case ASCII words joined by
// hyphens, at most eight words.
func slugify(s string) string {
	s = strings.ToLower(accentFold.Replace(s))
	var words []string
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') }) {
		if len(words) == 8 {
			break
		}
		words = append(words, w)
	}
	return strings.Join(words, "-")
}

// Fringe sites. The names are made up: a synthetic operation must not be
// pinned on a real site.
func fringeDomains(target, stance, lang string) []string {
	switch {
	case lang == "en":
		return []string{"truthwire-daily.com", "eagle-patriot-news.com"}
	case target == "macron" && stance == StanceSmear:
		return []string{"la-verite-cachee.fr", "resistance-info.org", "patriote-hebdo.fr"}
	case target == "melenchon" && stance == StanceFavour:
		return []string{"insoumis-info.fr", "lavoixdupeuple.org", "gauche-debout.net"}
	case target == "fillon" && stance == StanceSmear:
		return []string{"republique-propre.fr", "dossiers-politiques.info"}
	case target == "lepen" && stance == StanceFavour:
		return []string{"france-souveraine.info", "reinformation-hebdo.fr"}
	}
	return []string{"info-libre-france.fr", "actu-alternative.net"}
}

func defaultHashtag(target, stance string) string {
	c := candidates[candidateIndex(target)]
	if stance == StanceFavour {
		return c.favour[0]
	}
	return c.smear[0]
}

// Texts of planted networks, by target and stance. Leaders' seed posts
// and members' own posts draw from them; copy-paste campaigns and link
// pushes use them as headlines.
var plantedFR = map[string][]string{
	"macron/favour": {
		"Le 7 mai, je vote pour l'avenir. Rejoignez-nous !", "{M} : le seul projet qui rassemble les Français.",
		"Ensemble, faisons gagner la France ouverte {day} !", "Tous mobilisés pour {M} jusqu'au bout !",
		"camp|Dernier meeting à {city} : l'espoir est là.", "Votez et faites voter {M} {day}.",
	},
	"macron/smear": {
		"Compte offshore aux Bahamas : les questions auxquelles {M} refuse de répondre",
		"Ce que les médias ne vous diront pas sur {M} et ses amis banquiers",
		"{M} et l'argent : l'enquête que personne ne veut publier",
		"Partagez avant censure : le vrai programme de {M}",
		"{M}, le candidat de l'oligarchie, démasqué",
		"Les liens de {M} avec la finance mondialisée enfin révélés",
		"leaks|Les mails d'En Marche dévoilés : que cache {M} ?",
		"leaks|Les médias ont interdiction de parler des fuites. Partagez massivement !",
		"leaks|Documents internes : la preuve que le système protège {M}",
	},
	"lepen/favour": {
		"Marine Présidente ! Le 7 mai, choisissons la France.", "Avec Marine, remettons la France en ordre.",
		"Au nom du peuple : {day}, votez Marine !", "Marine défend nos emplois, nos frontières, notre identité.",
		"debate|Marine a dominé le débat. {M} était à la peine.", "camp|Meeting de Marine à {city} : une ferveur incroyable !",
		"Le peuple contre l'oligarchie : {day}, c'est Marine.", "Patriotes, tous mobilisés pour Marine {day} !",
	},
	"melenchon/favour": {
		"Pourquoi le vote blanc n'est pas un vote perdu", "Loi travail XXL : ce que prépare {M} pour l'été",
		"Législatives : la France insoumise peut gagner", "Le bilan caché du quinquennat Hollande-Macron",
		"Sixième République : le débat que le second tour a confisqué", "Ni patrie ni patron : les insoumis face au second tour",
	},
	"fillon/smear": {
		"Penelopegate : {F} rattrapé par la justice, la droite doit tourner la page",
		"Costumes, emplois fictifs : le vrai bilan de la campagne {F}",
		"{F} appelle à voter {M} : la trahison de trop",
		"Les Républicains sacrifiés par l'entêtement de {F}",
	},
}

var plantedEN = map[string][]string{
	"macron/smear": {
		"{Men} is a globalist puppet of the banks. France deserves better.",
		"Why are French media silent on {Men}'s offshore questions?",
		"leaks|The Macron emails the media will not show you.",
		"leaks|Huge leak from the {Men} campaign. Spread it before it gets deleted!",
		"France is about to elect a Rothschild banker. Wake up!",
		"Vote {LPen} on Sunday. Save France!",
	},
}

var plantedComments = map[string][]string{
	"fr": {"À lire absolument", "Enfin un article honnête", "Ce que les grands médias ne disent pas", "Lisez et partagez", "Tout est dit", "Édifiant", "À faire tourner", "Voilà la vérité", "👉 À lire", "Important"},
	"en": {"Must read", "Share this", "The media won't tell you this", "Read this", "Wake up France", "This!"},
}

func plantedTexts(target, stance, lang string) []string {
	key := target + "/" + stance
	if lang == "en" {
		if t, ok := plantedEN[key]; ok {
			return t
		}
		return []string{"Vote against " + candidates[candidateIndex(target)].short + " on Sunday!"}
	}
	if t, ok := plantedFR[key]; ok {
		return t
	}
	c := candidates[candidateIndex(target)]
	if stance == StanceFavour {
		return []string{c.name + " : le seul choix {day}.", "Tous avec " + c.short + " !"}
	}
	return []string{"Surtout pas " + c.short + " {day}.", "Tout sauf " + c.short + " !"}
}

// mutate makes the small edits copy-paste operators make so their posts
// are not byte-identical: a leading emoji, changed punctuation, a call to
// share, a word in capitals.
func mutate(r *rng, s string) string {
	if r.chance(0.35) {
		s = pick(r, []string{"⚠️ ", "🔴 ", "❗ ", "URGENT : ", "👉 ", "A LIRE : "}) + s
	}
	switch r.intn(4) {
	case 0:
		s += " !"
	case 1:
		s += "..."
	case 2:
		s += " !!"
	}
	if r.chance(0.3) {
		s += " " + pick(r, []string{"Partagez !", "RT svp", "Faites tourner.", "Diffusez !"})
	}
	if r.chance(0.2) {
		if w := strings.Fields(s); len(w) > 2 {
			k := 1 + r.intn(len(w)-1)
			w[k] = strings.ToUpper(w[k])
			s = strings.Join(w, " ")
		}
	}
	return s
}

// Names for handles and display names.
var (
	firstFR = []string{"Marie", "Nathalie", "Isabelle", "Sylvie", "Catherine", "Sophie", "Julie", "Céline", "Camille", "Léa", "Manon", "Chloé", "Emma", "Sarah", "Laura", "Aurélie", "Claire", "Anne", "Valérie", "Christine",
		"Jean", "Pierre", "Michel", "Philippe", "Nicolas", "Thomas", "Julien", "Alexandre", "Antoine", "Maxime", "Lucas", "Hugo", "Louis", "Paul", "Olivier", "Laurent", "Stéphane", "David", "Éric", "Franck", "Karim", "Mehdi", "Yann", "Romain", "Guillaume"}
	lastFR = []string{"Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier",
		"Morel", "Girard", "André", "Lefèvre", "Mercier", "Dupont", "Lambert", "Bonnet", "François", "Martinez", "Legrand", "Garnier", "Faure", "Rousseau", "Blanc", "Guerin", "Muller", "Henry", "Roussel", "Nicolas", "Perrin", "Morin", "Mathieu", "Clément", "Gauthier", "Benali", "Nguyen", "Le Gall"}
	firstEN = []string{"John", "Michael", "David", "James", "Robert", "Chris", "Mark", "Paul", "Steve", "Mary", "Jennifer", "Linda", "Sarah", "Emily", "Jessica", "Anna", "Laura", "Kate"}
	lastEN  = []string{"Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson", "Taylor", "Moore", "Clark", "Walker", "Hall", "Young", "King"}
	bioFR   = []string{"Citoyen engagé.", "Avis perso.", "Prof d'histoire, avis perso", "Parisienne. Politique, cinéma, foot.", "Supporter de l'OM", "Ingénieur, curieux de tout", "Infirmière. Mes tweets n'engagent que moi.", "Père de famille, {city}", "Étudiant en droit", "Retraité, ancien syndicaliste", "Journaliste pigiste", "Militant associatif", "Lyon ↔ Paris", "Amoureux de la France", "Gauche, toujours.", "Libéral et européen 🇪🇺🇫🇷"}
	bioEN   = []string{"Views my own.", "Politics junkie.", "Europe watcher.", "Dad, runner, news addict.", "Free speech. Common sense."}
	bioBot  = []string{"", "", "", "Patriote 🇫🇷", "Réveillez-vous !", "La France aux Français", "#Marine2017", "Fier d'être français", "Les médias mentent", "Insoumis", "#EnMarche"}
)

// handleFrom builds a Twitter-shaped handle (letters, digits and
// underscores, at most 15 characters) in one of several personal styles.
func handleFrom(r *rng, first, last string) string {
	f, l := asciiName(first), asciiName(last)
	var h string
	switch r.intn(7) {
	case 0:
		h = f + "_" + l
	case 1:
		h = f + l
	case 2:
		h = strings.ToLower(f[:1] + l)
	case 3:
		h = f + l + strconv.Itoa(r.intn(100))
	case 4:
		h = f + "_" + l[:1]
	case 5:
		h = strings.ToLower(l + f)
	default:
		h = f + strconv.Itoa(1950+r.intn(55))
	}
	return clipHandle(h)
}

// botHandle builds the handle of a mass-created account: a first name or
// word followed by a long run of digits, the pattern of suggested handles.
func botHandle(r *rng, first string) string {
	n := strconv.FormatInt(r.between(10_000_000, 99_999_999), 10)
	switch r.intn(3) {
	case 0:
		return clipHandle(asciiName(first) + n)
	case 1:
		return clipHandle(pick(r, []string{"patriote", "citoyen", "France", "libre", "Resistant", "Gaulois", "peuple"}) + "_" + n[:6])
	}
	return clipHandle(strings.ToLower(asciiName(first)) + n[:5] + "_" + n[5:7])
}

func asciiName(s string) string {
	s = accentFold.Replace(s)
	var b strings.Builder
	for _, c := range s {
		if c < utf8.RuneSelf && (unicode.IsLetter(c) || unicode.IsDigit(c)) {
			b.WriteRune(c)
		}
	}
	return b.String()
}

func clipHandle(h string) string {
	if len(h) > 15 {
		h = h[:15]
	}
	return h
}

// extract returns the distinct #hashtags or @mentions (by sigil) in text,
// without the sigil, in order of appearance, as Twitter's entities list.
func extract(text string, sigil byte) []string {
	var out []string
	for i := 0; i < len(text); i++ {
		if text[i] != sigil || (i > 0 && isWordByte(text[i-1])) {
			continue
		}
		j := i + 1
		for j < len(text) {
			c, n := utf8.DecodeRuneInString(text[j:])
			if !(unicode.IsLetter(c) || unicode.IsDigit(c) || c == '_') || (sigil == '@' && c >= utf8.RuneSelf) {
				break
			}
			j += n
		}
		if j > i+1 {
			tag := text[i+1 : j]
			dup := false
			for _, o := range out {
				dup = dup || o == tag
			}
			if !dup {
				out = append(out, tag)
			}
		}
		i = j - 1
	}
	return out
}

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= utf8.RuneSelf
}

// fit trims text to Twitter's limit of 2017, 140 characters, dropping
// whole trailing words.
func fit(s string) string {
	if utf8.RuneCountInString(s) <= 140 {
		return s
	}
	rs := []rune(s)[:139]
	if i := strings.LastIndexByte(string(rs), ' '); i > 0 {
		return string(rs)[:i] + "…"
	}
	return string(rs) + "…"
}
