package scoring

import "strings"

// Lexicons of the stance model, per language, written folded (lower case,
// no accents: see election.Fold). Entries are one or more words; the
// longest entry matching at a position wins.
//
// Evaluative entries carry a polarity in -1..1: positive praises whoever
// they are said of, negative disparages. They bind to the nearest
// candidate named in the same sentence (or to the post's only candidate).
// A negator within three words before flips them ("n'est pas credible").
//
// Directive entries are calls to act for or against someone ("votez",
// "tout sauf", "vote for"); they bind only to a candidate named within
// three words after them and weigh more, because "tout sauf Macron" says
// nothing about anyone else in the post.
//
// The lists were written from general knowledge of French and English
// political talk before the labelled set was, then adjusted on its dev
// split only (see stance_eval_test.go).

type lexicon struct {
	evaluative map[string]float64
	directive  map[string]float64
	negators   map[string]bool
	// firstEval and firstDir map an entry's first word to the most words
	// an entry starting with it has, so most words are ruled out by one
	// lookup (computed by init).
	firstEval map[string]int
	firstDir  map[string]int
}

func init() {
	for lang, lx := range lexicons {
		lx.firstEval, lx.firstDir = firstWords(lx.evaluative), firstWords(lx.directive)
		lexicons[lang] = lx
	}
}

func firstWords(dict map[string]float64) map[string]int {
	out := map[string]int{}
	for e := range dict {
		w := tokenWordsLex(e)
		out[w[0]] = max(out[w[0]], len(w))
	}
	return out
}

// tokenWordsLex splits a lexicon entry into the tokens tokenize makes:
// words, with a French elision kept on its first part ("n'", "l'").
func tokenWordsLex(e string) []string {
	var out []string
	for _, f := range strings.Fields(e) {
		for {
			i := strings.IndexByte(f, '\'')
			if i < 0 || i == len(f)-1 || strings.HasSuffix(f, "n't") {
				out = append(out, f)
				break
			}
			out = append(out, f[:i+1])
			f = f[i+1:]
		}
	}
	return out
}

var lexicons = map[string]lexicon{
	"fr": {
		evaluative: map[string]float64{
			// praise
			"bravo": 1, "merci": 0.3, "non merci": -1, "pas question": -1, "insupportable": -1, "cauchemar": -1,
			"irresponsable": -0.9, "demagogique": -0.9, "irrealiste": -0.8, "en miettes": -0.8, "debacle": -0.9,
			"secte": -0.9, "chance pour la france": 0.9, "une chance": 0.6, "president des riches": -1,
			"mauvais": -0.8, "pas de programme": -0.9, "rien dit": -0.8, "rien repondu": -0.9, "rien de concret": -0.9,
			"soutient": 0.6, "meprise": -0.9, "meprisent": -0.9, "divise": -0.6, "confiance": 0.7, "bilan": -0.2,
			"mauvaise": -0.8, "catastrophique": -1, "emotion": 0.5, "respect": 0.7, "excellent": 1, "excellente": 1, "brillant": 1, "brillante": 1,
			"credible": 0.8, "serieux": 0.6, "serieuse": 0.6, "competent": 0.8, "competente": 0.8,
			"courageux": 0.8, "courageuse": 0.8, "courage": 0.6, "honnete": 0.8, "digne": 0.7,
			"convaincant": 0.9, "convaincante": 0.9, "clair": 0.5, "claire": 0.5, "solide": 0.7,
			"espoir": 0.8, "fier": 0.8, "fiere": 0.8, "fiers": 0.8, "rassembler": 0.6, "rassemble": 0.6,
			"a gagne": 1, "gagne le debat": 1, "domine": 0.8, "a domine": 0.9, "victoire": 0.7,
			"le seul": 0.5, "la seule": 0.5, "meilleur": 0.8, "meilleure": 0.8, "tient la route": 0.9,
			"soutien": 0.6, "soutiens": 0.7, "j'y crois": 1, "on y croit": 1, "enthousiasme": 0.7,
			"ferveur": 0.8, "salle comble": 0.8, "impressionnant": 0.8, "impressionnante": 0.8,
			"raison": 0.4, "avait raison": 0.9, "a raison": 0.9, "projet": 0.2, "programme serieux": 0.8,
			"defend": 0.6, "protege": 0.6, "protegera": 0.6, "sauver": 0.5, "enfin": 0.2,
			"a la hauteur": 0.9, "presidentiable": 0.9, "sincere": 0.7, "formidable": 1, "superbe": 0.9,
			"magnifique": 0.9, "genial": 0.9, "top": 0.6, "bien joue": 1, "chapeau": 0.8,
			// disparagement
			"honte": -1, "honteux": -1, "honteuse": -1, "scandale": -1, "scandaleux": -1, "scandaleuse": -1,
			"menteur": -1, "menteuse": -1, "mensonge": -0.9, "mensonges": -0.9, "ment": -0.8, "mentir": -0.7,
			"corrompu": -1, "corrompue": -1, "corruption": -0.9, "escroc": -1, "voleur": -1, "voleuse": -1,
			"danger": -0.9, "dangereux": -0.9, "dangereuse": -0.9, "catastrophe": -0.9, "desastre": -0.9,
			"desastreux": -0.9, "nul": -0.9, "nulle": -0.9, "lamentable": -1, "pathetique": -1, "minable": -1,
			"incompetent": -1, "incompetente": -1, "incapable": -0.9, "mediocre": -0.9, "ridicule": -0.9,
			"affligeant": -1, "affligeante": -1, "consternant": -1, "navrant": -1, "pitoyable": -1,
			"inquietant": -0.6, "inquietante": -0.6, "effrayant": -0.8, "arrogant": -0.8, "arrogance": -0.8,
			"mepris": -0.8, "meprisant": -0.8, "hypocrite": -0.9, "hypocrisie": -0.9, "trahison": -0.9,
			"traitre": -1, "marionnette": -1, "pantin": -1, "imposteur": -1, "imposture": -1,
			"demasque": -1, "oligarchie": -0.8, "candidat de la finance": -1, "candidat des banques": -1,
			"banquier": -0.5, "banquiers": -0.5, "haine": -0.8, "raciste": -1, "xenophobe": -1,
			"extreme droite": -0.5, "extremiste": -0.8, "fasciste": -1, "facho": -1, "fachos": -1,
			"populiste": -0.6, "demagogue": -0.9, "demagogie": -0.9, "fictifs": -0.9, "emplois fictifs": -1,
			"affaire": -0.4, "affaires": -0.5, "mis en examen": -1, "justice": -0.2, "casseroles": -1,
			"rendez l'argent": -1, "rends l'argent": -1, "magouille": -1, "magouilles": -1,
			"cache": -0.5, "refuse de repondre": -1, "enfume": -0.9, "enfumage": -0.9, "bidon": -0.9,
			"degage": -1, "degagez": -1, "ruine": -0.8, "ruiner": -0.8, "echec": -0.8, "faillite": -0.8,
			"pire": -0.8, "en pire": -1, "contradictions": -0.6, "rien prepare": -0.9, "a la peine": -0.8,
			"confond": -0.6, "aucun chiffrage": -0.9, "insulte": -0.8, "insultes": -0.7, "indigne": -1,
			"vendu": -0.9, "vendus": -0.9, "soumis": -0.7, "offshore": -0.7, "fraude": -1, "fraudeur": -1,
			"chaos": -0.9, "peur": -0.5, "effondrement": -0.8, "grotesque": -1, "crise": -0.3,
			"detruire": -0.8, "detruit": -0.8, "sans programme": -0.9, "aucun programme": -0.9,
			"la finance": -0.4, "ennemi": -0.8, "dehors": -0.8, "mascarade": -0.9, "naufrage": -0.9,
		},
		directive: map[string]float64{
			"votez": 1.2, "je vote": 1.2, "voter": 0.8, "voteront": 1, "votera": 0.8, "voterai": 1, "voter pour": 1.2, "vote pour": 1.2, "je voterai": 1, "votons": 1.2,
			"faites voter": 1, "tous avec": 1.2, "vive": 1.2, "allez": 0.8, "soutenez": 1,
			"je soutiens": 1.2, "on soutient": 1.2, "rejoignez": 0.8, "c'est": 0.3, "mobilises pour": 1.2,
			"mobilisation pour": 1, "president": 0.3, "presidente": 0.5,
			"tout sauf": -1.5, "surtout pas": -1.5, "jamais": -1.2, "stop": -1.2, "contre": -0.9,
			"barrage a": -1.5, "barrage au": -1.5, "faire barrage a": -1.5, "faire barrage au": -1.5,
			"battre": -1, "pas une voix pour": -1.5, "aucune voix pour": -1.5, "pas de cheque en blanc a": -1,
			"non a": -1.2, "ni": -0.7, "se mefier de": -1, "mefiez-vous de": -1, "boycott": -1,
			"faire tomber": -1, "ne votez pas": -1.5, "je ne voterai pas": -1.5, "sans moi": -1,
		},
		negators: map[string]bool{
			"ne": true, "n'": true, "pas": true, "jamais": true, "aucun": true, "aucune": true,
			"rien": true, "sans": true, "ni": true, "non": true, "guere": true, "plus": false,
		},
	},
	"en": {
		evaluative: map[string]float64{
			"great": 0.9, "best": 0.8, "best hope": 1, "strong": 0.6, "brilliant": 1, "excellent": 1,
			"impressive": 0.9, "competent": 0.8, "honest": 0.8, "credible": 0.8, "serious": 0.5,
			"brave": 0.8, "courage": 0.7, "hope": 0.6, "proud": 0.8, "won": 0.8, "wins": 0.8, "win": 0.4,
			"crushed": 0.8, "dominated": 0.8, "smart": 0.7, "inspiring": 0.9, "leader": 0.5,
			"the only": 0.5, "right about": 0.8, "trust": 0.6, "support": 0.6, "good": 0.5, "bravo": 1,
			"well done": 1, "thank you": 0.6, "amazing": 0.9, "fantastic": 0.9, "presidential": 0.7,
			"liar": -1, "lies": -0.9, "lying": -0.9, "lied": -0.9, "corrupt": -1, "corruption": -0.9,
			"crook": -1, "fraud": -1, "scandal": -0.9, "shameful": -1, "shame": -0.9, "disgrace": -1,
			"disgraceful": -1, "dangerous": -0.9, "danger": -0.8, "disaster": -0.9, "terrible": -0.9,
			"awful": -0.9, "pathetic": -1, "incompetent": -1, "weak": -0.7, "failed": -0.8, "failure": -0.8,
			"puppet": -1, "globalist": -0.8, "elitist": -0.8, "elite": -0.4, "of the banks": -1,
			"banker": -0.5, "rothschild banker": -1, "racist": -1, "fascist": -1, "far-right": -0.5,
			"far right": -0.5, "extremist": -0.9, "xenophobic": -1, "hate": -0.8, "hateful": -0.9,
			"arrogant": -0.8, "fake": -0.8, "hypocrite": -0.9, "traitor": -1, "offshore": -0.7,
			"hiding": -0.7, "silent on": -0.6, "worst": -1, "nightmare": -0.9, "threat": -0.8,
			"embarrassing": -0.9, "clueless": -1, "unfit": -1, "chaos": -0.9, "mess": -0.7, "ridiculous": -0.9,
			"deserves better": -0.6, "populist": -0.6, "no plan": -0.9, "no answer": -0.8, "racists": -1,
			"sensible": 0.6, "destroyed": 0.6, "scary": -0.8, "wrong": -0.6, "bad": -0.6,
		},
		directive: map[string]float64{
			"vote": 1, "vote for": 1.2, "voting for": 1.2, "i'm voting": 1.2, "i am voting": 1.2, "go": 0.8,
			"support": 0.8, "i support": 1.2, "back": 0.4, "elect": 1, "with": 0.3,
			"stop": -1.2, "never": -1.2, "against": -0.9, "anyone but": -1.5, "anybody but": -1.5,
			"not": -0.3, "defeat": -1, "beat": -0.8, "don't vote for": -1.5, "do not vote for": -1.5,
			"no to": -1.2, "reject": -1.2, "boycott": -1, "block": -0.8, "nobody wants": -1,
		},
		negators: map[string]bool{
			"not": true, "no": true, "never": true, "without": true, "nor": true, "neither": true,
			"hardly": true, "isn't": true, "wasn't": true, "aren't": true, "don't": true, "doesn't": true,
			"didn't": true, "won't": true, "can't": true, "cannot": true, "nothing": true,
		},
	},
}
