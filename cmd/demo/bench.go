package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/standin"
)

// scenario is one whole-process measurement: a Wazuh home with its own
// config, an alert, and the program to run on it.
type scenario struct {
	name    string
	program string
	config  string // TOML; %s placeholders are filled by setUpScenario
	sample  string
	prime   int // runs before measuring (warm the cache, open the breaker)
	runs    int
}

// benchmark runs each scenario under hyperfine and /usr/bin/time -v and
// prints a Markdown table for BENCHMARKS.md.
func benchmark(binDir, template string, out io.Writer) error {
	if _, err := exec.LookPath("hyperfine"); err != nil {
		return fmt.Errorf("hyperfine not found: install it (apt-get install hyperfine)")
	}

	root, err := os.MkdirTemp("", "bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(root)

	queue, err := standin.ListenQueue(filepath.Join(root, "q"))
	if err != nil {
		return err
	}
	defer queue.Close()
	go func() {
		for range time.Tick(100 * time.Millisecond) {
			queue.Take()
		}
	}()

	misp, err := standin.NewMISP(demoKey)
	if err != nil {
		return err
	}
	defer misp.Close()
	failing, err := standin.NewMISP(demoKey)
	if err != nil {
		return err
	}
	defer failing.Close()
	failing.SetMode(standin.MISPError500)
	stalled, err := standin.NewMISP(demoKey)
	if err != nil {
		return err
	}
	defer stalled.Close()
	stalled.SetMode(standin.MISPStall)
	bot := standin.NewBotAPI()
	defer bot.Close()

	common := fmt.Sprintf("[wazuh]\nqueue_socket = %q\n", queue.Path)
	noCache := "\n[cache]\nenabled = false\n"
	scenarios := []scenario{
		{"custom-misp, alert without indicators", "custom-misp", common + mispTable(misp.URL(), "") + noCache, "misp_result_not_handled", 0, 300},
		{"custom-misp, lookup that misses", "custom-misp", common + mispTable(misp.URL(), "") + noCache, "win_sysmon7_image_loaded", 0, 300},
		{"custom-misp, lookup that matches", "custom-misp", common + mispTable(misp.URL(), "") + noCache, "win_sysmon3_public_ip", 0, 300},
		{"custom-misp, cache hit (match)", "custom-misp", common + mispTable(misp.URL(), ""), "win_sysmon3_public_ip", 1, 300},
		{"custom-misp, breaker open (MISP returns 500)", "custom-misp", common + mispTable(failing.URL(), "") + "\n[breaker]\nfailures = 1\nopen_for = \"1h\"\n[spool]\nenabled = false\n" + noCache, "win_sysmon3_public_ip", 1, 300},
		{"custom-misp, breaker open (MISP never answers)", "custom-misp", common + mispTable(stalled.URL(), "timeout = \"1s\"\nbudget = \"2s\"\nretries = 0\n") + "\n[breaker]\nfailures = 1\nopen_for = \"1h\"\n[spool]\nenabled = false\n" + noCache, "win_sysmon3_public_ip", 1, 300},
		{"custom-misp, MISP never answers, 2s budget", "custom-misp", common + mispTable(stalled.URL(), "timeout = \"2s\"\nbudget = \"2s\"\nretries = 3\n") + "\n[breaker]\nfailures = 1000\n[spool]\nenabled = false\n" + noCache, "win_sysmon3_public_ip", 0, 5},
		{"custom-telegram, one delivery", "custom-telegram", common + telegramTable(bot.URL(), template), "", 0, 300},
	}

	fmt.Fprintf(out, "Machine: %s, %d cores, %s; Go %s\nCommand: make bench-process (go run ./cmd/demo -bin bin -bench)\n\n", cpuModel(), runtime.NumCPU(), kernel(), runtime.Version())
	fmt.Fprintln(out, "| scenario | median | mean ± σ | min | max | runs | peak RSS |")
	fmt.Fprintln(out, "|---|---|---|---|---|---|---|")
	for i, s := range scenarios {
		dir := filepath.Join(root, strconv.Itoa(i))
		command, err := setUpScenario(dir, binDir, template, s)
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		for j := 0; j < s.prime; j++ {
			exec.Command(command[0], command[1:]...).Run()
		}
		stats, err := hyperfine(dir, s, command)
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		rss, err := peakRSS(command)
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		fmt.Fprintf(out, "| %s | %s | %s ± %s | %s | %s | %d | %.1f MiB |\n", s.name,
			ms(stats.Median), ms(stats.Mean), ms(stats.Stddev), ms(stats.Min), ms(stats.Max), len(stats.Times), float64(rss)/1024)
	}
	return nil
}

func mispTable(url, extra string) string {
	return fmt.Sprintf("\n[misp]\nurl = %q\napi_key = %q\n%s", url, demoKey, extra)
}

func telegramTable(url, template string) string {
	return fmt.Sprintf("\n[telegram]\nbot_token = %q\nchat_id = %s\napi_url = %q\ntemplate = %q\nrate_per_minute = 1000000\nburst = 1000000\ndedupe_window = \"0s\"\n",
		demoToken, demoChat, url, "etc/misp-telegram/templates/"+filepath.Base(template))
}

// setUpScenario lays out a Wazuh home in dir and returns the command line
// that runs the scenario's program on its alert.
func setUpScenario(dir, binDir, template string, s scenario) ([]string, error) {
	for _, sub := range []string{"integrations", "etc/misp-telegram/templates", "logs", "var", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o750); err != nil {
			return nil, err
		}
	}
	bin := filepath.Join(dir, "integrations", s.program)
	if err := copyFile(filepath.Join(binDir, s.program), bin, 0o750); err != nil {
		return nil, err
	}
	if err := copyFile(template, filepath.Join(dir, "etc", "misp-telegram", "templates", filepath.Base(template)), 0o640); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "etc", "misp-telegram.toml"), []byte(s.config), 0o640); err != nil {
		return nil, err
	}

	var alert []byte
	if s.program == "custom-telegram" {
		alert = matchAlert()
	} else {
		samples, err := standin.Samples()
		if err != nil {
			return nil, err
		}
		alert = mustSample(samples, s.sample)
	}
	alertPath := filepath.Join(dir, "tmp", "bench.alert")
	if err := os.WriteFile(alertPath, alert, 0o640); err != nil {
		return nil, err
	}
	return []string{bin, alertPath}, nil
}

// matchAlert is the Wazuh alert for a seeded match, as custom-telegram
// receives it from integratord.
func matchAlert() []byte {
	message := []byte(`1:[033] (WIN-HOST01) 10.0.0.33->misp:{"integration":"misp","misp":{"event_id":"1202","event_uuid":"d3a0e7e7-0000-4000-8000-000000001202","event_info":"Demo: regsvr32 proxy execution calling home","attribute_id":"90002","category":"Network activity","type":"ip-dst|port","value":"1.1.123.23","attribute_value":"1.1.123.23|443","ioc_kind":"ip","to_ids":true,"tags":["tlp:green"],"event_url":"https://misp.example.org/events/view/1202","source":{"alert_id":"1733300000.1001","alert_timestamp":"2026-12-04T10:00:01.000+0000","rule_id":"61605","rule_level":3,"rule_description":"Sysmon - Event 3: Network connection","agent":{"id":"033","name":"WIN-HOST01","ip":"10.0.0.33"},"field":"data.win.eventdata.destinationIp"}}}`)
	alert, err := standin.AlertFromMessage(message, "1764842500.1", time.Date(2026, 12, 4, 10, 0, 2, 0, time.UTC))
	if err != nil {
		panic(err)
	}
	data, _ := json.Marshal(alert)
	return append(data, '\n')
}

type timings struct {
	Mean   float64   `json:"mean"`
	Stddev float64   `json:"stddev"`
	Median float64   `json:"median"`
	Min    float64   `json:"min"`
	Max    float64   `json:"max"`
	Times  []float64 `json:"times"`
}

func hyperfine(dir string, s scenario, command []string) (timings, error) {
	export := filepath.Join(dir, "hyperfine.json")
	warmup := "20"
	if s.runs < 10 {
		warmup = "0"
	}
	cmd := exec.Command("hyperfine", "-N", "--warmup", warmup, "--runs", strconv.Itoa(s.runs),
		"--export-json", export, "--style", "none", strings.Join(command, " "))
	if out, err := cmd.CombinedOutput(); err != nil {
		return timings{}, fmt.Errorf("hyperfine: %v: %s", err, out)
	}
	data, err := os.ReadFile(export)
	if err != nil {
		return timings{}, err
	}
	var parsed struct {
		Results []timings `json:"results"`
	}
	if err := json.Unmarshal(data, &parsed); err != nil || len(parsed.Results) != 1 {
		return timings{}, fmt.Errorf("read hyperfine output: %v", err)
	}
	return parsed.Results[0], nil
}

// peakRSS returns the maximum resident set size in KiB of one run, from
// GNU time's -v report.
func peakRSS(command []string) (int, error) {
	cmd := exec.Command("/usr/bin/time", append([]string{"-v"}, command...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Run()
	scanner := bufio.NewScanner(&stderr)
	for scanner.Scan() {
		line := strings.TrimSpace(scanner.Text())
		if value, ok := strings.CutPrefix(line, "Maximum resident set size (kbytes): "); ok {
			return strconv.Atoi(value)
		}
	}
	return 0, fmt.Errorf("/usr/bin/time printed no maximum resident set size (install the time package): %s", stderr.String())
}

func ms(seconds float64) string { return fmt.Sprintf("%.2f ms", seconds*1000) }

func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, line := range strings.Split(string(data), "\n") {
		if name, ok := strings.CutPrefix(line, "model name"); ok {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(name), ":"))
		}
	}
	return runtime.GOARCH
}

func kernel() string {
	out, err := exec.Command("uname", "-sr").Output()
	if err != nil {
		return runtime.GOOS
	}
	return strings.TrimSpace(string(out))
}
