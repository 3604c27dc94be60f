package osv

import "testing"

func TestCVSS3BaseScore(t *testing.T) {
	t.Parallel()
	tests := []struct {
		vector string
		score  float64
		level  string
	}{
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, LevelCritical},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10, LevelCritical},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 8.8, LevelHigh},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5, LevelHigh},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1, LevelMedium},
		{"CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:L/I:L/A:N", 5.4, LevelMedium},
		{"CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8, LevelHigh},
		{"CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 1.6, LevelLow},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0, LevelNone},
		{"CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O", 8.1, LevelHigh},
	}
	for _, tt := range tests {
		got, ok := CVSS3BaseScore(tt.vector)
		if !ok || got != tt.score {
			t.Errorf("CVSS3BaseScore(%s) = %v, %v; want %v", tt.vector, got, ok, tt.score)
		}
		if l, s := deriveLevel([]Severity{{Type: "CVSS_V3", Score: tt.vector}}, ""); l != tt.level || s != tt.score {
			t.Errorf("deriveLevel(%s) = %s, %v; want %s", tt.vector, l, s, tt.level)
		}
	}
	for _, bad := range []string{
		"", "CVSS:2.0/AV:N", "AV:N/AC:L/Au:N/C:P/I:P/A:P", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",
		"CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:Q/C:H/I:H/A:H",
		"CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A",
	} {
		if _, ok := CVSS3BaseScore(bad); ok {
			t.Errorf("CVSS3BaseScore(%q) accepted", bad)
		}
	}
}

func TestDeriveLevelFallback(t *testing.T) {
	t.Parallel()
	tests := []struct {
		sev  []Severity
		db   string
		want string
	}{
		{nil, "MODERATE", LevelMedium},
		{nil, "critical", LevelCritical},
		{nil, "", ""},
		{[]Severity{{Type: "CVSS_V4", Score: "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"}}, "LOW", LevelLow},
		{[]Severity{{Type: "CVSS_V3", Score: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}, {Type: "CVSS_V3", Score: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}}, "LOW", LevelCritical},
	}
	for _, tt := range tests {
		if got, _ := deriveLevel(tt.sev, tt.db); got != tt.want {
			t.Errorf("deriveLevel(%v, %q) = %q, want %q", tt.sev, tt.db, got, tt.want)
		}
	}
}
