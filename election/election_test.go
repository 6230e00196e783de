package election

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func TestDefaultValid(t *testing.T) {
	e := Default()
	if got := strings.Join(e.IDs(), ","); got != "macron,lepen,fillon,melenchon,hamon" {
		t.Errorf("candidates = %s", got)
	}
	if e.Location().String() != "Europe/Paris" {
		t.Errorf("location = %s", e.Location())
	}
}

// The deploy copy is what operators read; it must be what the binary embeds.
func TestDeployCopyIdentical(t *testing.T) {
	b, err := os.ReadFile("../deploy/elections/fr2017.yml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, fr2017) {
		t.Error("deploy/elections/fr2017.yml differs from election/fr2017.yml: copy it over")
	}
}

func TestTemplateValid(t *testing.T) {
	if _, err := Load("../deploy/elections/template.yml"); err != nil {
		t.Fatal(err)
	}
}

func TestLoadEmptyPathIsDefault(t *testing.T) {
	e, err := Load("")
	if err != nil || e.Name != Default().Name {
		t.Fatalf("Load(\"\") = %v, %v", e, err)
	}
}

func TestBadFiles(t *testing.T) {
	good := string(fr2017)
	for _, tc := range []struct {
		name, yml string
		want      []string
	}{
		{"empty", "", []string{"empty file"}},
		{"unknown key", strings.Replace(good, "    hashtags:\n      favour: [JeVoteMacron", "    hashtag:\n      favour: [JeVoteMacron", 1), []string{"field hashtag not found"}},
		{"bad date", strings.Replace(good, "start: 2017-04-01", "start: 1er avril", 1), []string{"not a date"}},
		{"end before start", strings.Replace(good, "end: 2017-05-08", "end: 2017-03-01", 1), []string{"end: 2017-03-01 is before start"}},
		{"bad tz", strings.Replace(good, "Europe/Paris", "Europe/Lutece", 1), []string{"timezone:"}},
		{"bad language", strings.Replace(good, "languages: [fr, en]", "languages: [french, en]", 1), []string{"languages[0]:"}},
		{"dup id", strings.Replace(good, "id: hamon", "id: macron", 1), []string{"candidates[4].id: \"macron\" is also candidates[0].id"}},
		{"dup seed", strings.Replace(good, "smear: [HamonDehors", "smear: [StopMacron", 1), []string{"candidates[4].hashtags.smear[0]: #StopMacron is already listed in candidates[0].hashtags.smear[0]"}},
		{"bad hashtag and handle", strings.Replace(strings.Replace(good, "JLM2017,", "JLM 2017,", 1), "handles: [benoithamon]", "handles: [\"benoit hamon\"]", 1),
			[]string{"candidates[3].hashtags.favour[0]:", "candidates[4].handles[0]:"}},
		{"no aliases", strings.Replace(good, "aliases: [Fillon, François Fillon, Penelope]", "aliases: []", 1), []string{"candidates[2].aliases:"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yml))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestFold(t *testing.T) {
	for in, want := range map[string]string{"#MacronPrésident": "macronpresident", "Mélenchon": "melenchon", "Œuvre": "oeuvre", "l’Europe": "l'europe", "@JLM": "jlm"} {
		if got := Fold(in); got != want {
			t.Errorf("Fold(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(fr2017)
	f.Add([]byte("name: x\ncandidates: [{id: a}]"))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := Parse(b)
		if err == nil && e.Validate() != nil {
			t.Fatal("Parse accepted an invalid election")
		}
	})
}
