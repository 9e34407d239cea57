package serve

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tetra-toolkit/tpm/lib/cmd/lscmd"
	"github.com/tetra-toolkit/tpm/lib/state"
)

// The metrics of /metrics, per process with a name label, gathered from the
// files and /proc at scrape time by a Collector (no gauge is kept between
// scrapes: nothing runs while nobody scrapes). tpm-serve's own process_* and
// go_* metrics come with them.
var (
	descUp = prometheus.NewDesc("tpm_up",
		"1 when the process's program is alive, 0 otherwise.", []string{"name"}, nil)
	descStatus = prometheus.NewDesc("tpm_status",
		"The process's status (SPEC §4): 1 for the status it has, 0 for every other.", []string{"name", "status"}, nil)
	descRestarts = prometheus.NewDesc("tpm_restarts_total",
		"Restarts by the supervisor since the process was last started by hand (its record's restarts).", []string{"name"}, nil)
	descCPU = prometheus.NewDesc("tpm_cpu_seconds_total",
		"Processor time of the program's process group, user and system.", []string{"name"}, nil)
	descRSS = prometheus.NewDesc("tpm_resident_memory_bytes",
		"Resident memory of the program's process group.", []string{"name"}, nil)
	descProcs = prometheus.NewDesc("tpm_processes",
		"Live processes in the program's process group.", []string{"name"}, nil)
	descUptime = prometheus.NewDesc("tpm_uptime_seconds",
		"How long the program has been running, 0 when it is not.", []string{"name"}, nil)
	descSupervised = prometheus.NewDesc("tpm_supervised",
		"1 when the process's supervisor is alive.", []string{"name"}, nil)
	descExit = prometheus.NewDesc("tpm_last_exit_code",
		"The exit code of the program's last run, when it exited with one.", []string{"name"}, nil)
	descScrape = prometheus.NewDesc("tpm_state_tree_readable",
		"1 when the state tree could be listed at this scrape.", nil, nil)
)

type collector struct{ tree *state.Tree }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descUp, descStatus, descRestarts, descCPU, descRSS, descProcs, descUptime, descSupervised, descExit, descScrape} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	recs, err := c.tree.LoadAll()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(descScrape, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(descScrape, prometheus.GaugeValue, 1)
	ps, _ := lscmd.Measure(recs)
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	for _, p := range ps {
		n := p.Name
		gauge(descUp, b2f(p.ProgAlive), n)
		// Every status, so that a query for one (errored == 1) never
		// finds nothing where it should find 0.
		for _, st := range state.Statuses {
			gauge(descStatus, b2f(p.Status == st), n, st)
		}
		gauge(descSupervised, b2f(p.SupAlive), n)
		gauge(descUptime, p.Uptime.Seconds(), n)
		counter(descCPU, p.Usage.CPU.Seconds(), n)
		gauge(descRSS, float64(p.Usage.RSS), n)
		gauge(descProcs, float64(p.Usage.N), n)
		if p.Meta == nil {
			continue
		}
		counter(descRestarts, float64(p.Meta.Int(state.KeyRestarts)), n)
		if v := p.Meta.Value(state.KeyExitCode); v != "" {
			if code, err := strconv.Atoi(v); err == nil {
				gauge(descExit, float64(code), n)
			}
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (s *Server) metricsHandler() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collector{s.Tree},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.HTTPErrorOnError})
}
