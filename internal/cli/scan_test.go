package cli

import (
	"testing"

	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/scan"
)

func TestParseSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{"1048576", 1 << 20, false},
		{"512MiB", 512 << 20, false},
		{"64GiB", 64 << 30, false},
		{"10GB", 10_000_000_000, false},
		{" 2 TiB ", 2 << 40, false},
		{"0", 0, true},
		{"-5MiB", 0, true},
		{"lots", 0, true},
		{"99999999999TiB", 0, true},
	}
	for _, tt := range tests {
		got, err := parseSize(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestResolveFailOn(t *testing.T) {
	t.Parallel()
	project := &config.Project{Scan: config.ScanSettings{FailOn: "medium"}}
	tests := []struct {
		name    string
		flag    string
		project *config.Project
		want    scan.Severity
	}{
		{"built-in default", "", nil, scan.SeverityHigh},
		{"project file", "", project, scan.SeverityMedium},
		{"flag beats project file", "critical", project, scan.SeverityCritical},
		{"none never fails", "none", project, scan.SeverityNone},
	}
	for _, tt := range tests {
		got, err := resolveFailOn(tt.flag, tt.project)
		if err != nil || got != tt.want {
			t.Errorf("%s: resolveFailOn(%q) = %v, %v; want %v", tt.name, tt.flag, got, err, tt.want)
		}
	}
	if _, err := resolveFailOn("severe", nil); err == nil {
		t.Error("resolveFailOn(severe) succeeded")
	}
}
