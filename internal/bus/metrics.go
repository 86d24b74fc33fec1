package bus

import (
	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
)

// Collectors exposes the connection's health and traffic to Prometheus;
// register them with reg.MustRegister(b.Collectors()...). A flapping
// connection to an external cluster shows as a rising reconnect count.
func (b *Bus) Collectors() []prometheus.Collector {
	counter := func(name, help string, v func(nats.Statistics) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
			func() float64 { return float64(v(b.nc.Stats())) })
	}
	return []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "vigil_bus_connected", Help: "1 while the NATS connection is up."},
			func() float64 {
				if b.nc.IsConnected() {
					return 1
				}
				return 0
			}),
		counter("vigil_bus_reconnects_total", "Reconnections to NATS.", func(s nats.Statistics) uint64 { return s.Reconnects }),
		counter("vigil_bus_messages_out_total", "Messages sent to NATS (publishes and JetStream API calls).", func(s nats.Statistics) uint64 { return s.OutMsgs }),
		counter("vigil_bus_messages_in_total", "Messages received from NATS.", func(s nats.Statistics) uint64 { return s.InMsgs }),
	}
}
