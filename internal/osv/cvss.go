package osv

import (
	"math"
	"strings"
)

// Severity levels derived from CVSS base scores (the CVSS v3 qualitative
// scale) or from a database's own rating.
const (
	LevelNone     = "none"
	LevelLow      = "low"
	LevelMedium   = "medium"
	LevelHigh     = "high"
	LevelCritical = "critical"
)

var levelRank = map[string]int{"": 0, LevelNone: 1, LevelLow: 2, LevelMedium: 3, LevelHigh: 4, LevelCritical: 5}

// levelOf maps a CVSS base score to its qualitative level.
func levelOf(score float64) string {
	switch {
	case score >= 9:
		return LevelCritical
	case score >= 7:
		return LevelHigh
	case score >= 4:
		return LevelMedium
	case score > 0:
		return LevelLow
	}
	return LevelNone
}

// CVSS3BaseScore computes the base score of a CVSS v3.0 or v3.1 vector
// ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" -> 9.8). ok is false
// when the vector is not a complete v3 base vector. Temporal and
// environmental metrics are ignored.
func CVSS3BaseScore(vector string) (score float64, ok bool) {
	parts := strings.Split(strings.TrimSpace(vector), "/")
	if len(parts) < 9 || (parts[0] != "CVSS:3.0" && parts[0] != "CVSS:3.1") {
		return 0, false
	}
	m := map[string]string{}
	for _, p := range parts[1:] {
		k, v, found := strings.Cut(p, ":")
		if !found {
			return 0, false
		}
		if _, dup := m[k]; dup {
			return 0, false
		}
		m[k] = v
	}
	weights := map[string]map[string]float64{
		"AV": {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2},
		"AC": {"L": 0.77, "H": 0.44},
		"UI": {"N": 0.85, "R": 0.62},
		"C":  {"H": 0.56, "L": 0.22, "N": 0},
		"I":  {"H": 0.56, "L": 0.22, "N": 0},
		"A":  {"H": 0.56, "L": 0.22, "N": 0},
	}
	w := map[string]float64{}
	for k, table := range weights {
		x, found := table[m[k]]
		if !found {
			return 0, false
		}
		w[k] = x
	}
	changed := false
	switch m["S"] {
	case "U":
	case "C":
		changed = true
	default:
		return 0, false
	}
	pr := map[string]float64{"N": 0.85, "L": 0.62, "H": 0.27}
	if changed {
		pr = map[string]float64{"N": 0.85, "L": 0.68, "H": 0.5}
	}
	prw, found := pr[m["PR"]]
	if !found {
		return 0, false
	}
	iss := 1 - (1-w["C"])*(1-w["I"])*(1-w["A"])
	var impact float64
	if changed {
		impact = 7.52*(iss-0.029) - 3.25*math.Pow(iss-0.02, 15)
	} else {
		impact = 6.42 * iss
	}
	if impact <= 0 {
		return 0, true
	}
	exploit := 8.22 * w["AV"] * w["AC"] * prw * w["UI"]
	if changed {
		return roundUp(math.Min(1.08*(impact+exploit), 10)), true
	}
	return roundUp(math.Min(impact+exploit, 10)), true
}

// roundUp is CVSS v3.1's Roundup: the smallest one-decimal number >= x,
// computed in integers to avoid floating-point artefacts.
func roundUp(x float64) float64 {
	i := int64(math.Round(x * 100000))
	if i%10000 == 0 {
		return float64(i) / 100000
	}
	return float64(i/10000+1) / 10
}

// deriveLevel returns the highest level among the CVSS v3 vectors, or
// else the database's own rating (GitHub's MODERATE is medium), and the
// highest CVSS v3 score (0 when none).
func deriveLevel(sev []Severity, dbSeverity string) (string, float64) {
	level, best := "", 0.0
	found := false
	for _, s := range sev {
		if s.Type != "CVSS_V3" {
			continue
		}
		if score, ok := CVSS3BaseScore(s.Score); ok && (!found || score > best) {
			best, found = score, true
			level = levelOf(score)
		}
	}
	if found {
		return level, best
	}
	switch strings.ToUpper(strings.TrimSpace(dbSeverity)) {
	case "CRITICAL":
		return LevelCritical, 0
	case "HIGH":
		return LevelHigh, 0
	case "MODERATE", "MEDIUM":
		return LevelMedium, 0
	case "LOW":
		return LevelLow, 0
	}
	return "", 0
}
