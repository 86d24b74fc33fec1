package live

import "github.com/prometheus/client_golang/prometheus"

// Collectors exposes the hub's counters to Prometheus; register them with
// reg.MustRegister(hub.Collectors()...). They read Stats at scrape time, so
// the hot path carries no metric updates beyond its own atomic counters.
func (h *Hub) Collectors() []prometheus.Collector {
	counter := func(name, help string, v func(Stats) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
			func() float64 { return float64(v(h.Stats())) })
	}
	return []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "vigil_live_clients", Help: "Open SSE streams in this process."},
			func() float64 { return float64(h.Stats().Clients) }),
		counter("vigil_live_events_total", "Bus events received by the live hub.", func(s Stats) uint64 { return s.Events }),
		counter("vigil_live_dropped_clients_total", "SSE streams closed because the browser read too slowly.", func(s Stats) uint64 { return s.Dropped }),
		counter("vigil_live_replays_total", "SSE resumes served from the stream because the ring no longer held them.", func(s Stats) uint64 { return s.Replays }),
	}
}
