package alarm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// mqttManager keeps one MQTT client per configured source and re-reads the
// sources when they change (Reload) or every minute (changes made on
// another server). Each message becomes one Event through the same Ingest
// as panel signals. Messages are acknowledged to the broker (QoS 1) only
// after their commit: paho acks when the handler returns.
type mqttManager struct {
	m      *Module
	mu     sync.Mutex
	reload chan struct{}
	conns  map[string]mqtt.Client // source ID + config → client
}

// ReloadMQTT makes the module re-read its MQTT sources now.
func (m *Module) ReloadMQTT() {
	m.mqtt.mu.Lock()
	ch := m.mqtt.reload
	m.mqtt.mu.Unlock()
	if ch != nil {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// processTag tells this process's MQTT clients apart from other servers'.
var processTag = func() string {
	h, _ := os.Hostname()
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s/%d", h, os.Getpid())))
	return hex.EncodeToString(sum[:4])
}()

func (g *mqttManager) run(ctx context.Context) {
	g.mu.Lock()
	g.reload = make(chan struct{}, 1)
	g.conns = map[string]mqtt.Client{}
	g.mu.Unlock()
	defer g.closeAll()
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		g.sync(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-g.reload:
		}
	}
}

func (g *mqttManager) closeAll() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for k, c := range g.conns {
		c.Disconnect(250)
		delete(g.conns, k)
	}
}

// sync connects new sources and drops removed ones.
func (g *mqttManager) sync(ctx context.Context) {
	srcs, err := g.m.S.Sources(ctx, nil, "mqtt")
	if err != nil {
		if ctx.Err() == nil {
			g.m.Log.Warn("alarm: mqtt sources", "err", err)
		}
		return
	}
	want := map[string]*Source{}
	for _, s := range srcs {
		want[s.ID+"|"+s.BrokerURL+"|"+s.Topic+"|"+mustJSON(s.DeviceMap)] = s
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for k, c := range g.conns {
		if _, ok := want[k]; !ok {
			c.Disconnect(250)
			delete(g.conns, k)
		}
	}
	for k, s := range want {
		if _, ok := g.conns[k]; ok {
			continue
		}
		g.conns[k] = g.connect(ctx, s)
	}
}

func (g *mqttManager) connect(ctx context.Context, src *Source) mqtt.Client {
	log := g.m.Log
	handler := func(_ mqtt.Client, msg mqtt.Message) {
		if err := g.handle(ctx, src, msg.Topic(), msg.Payload()); err != nil && ctx.Err() == nil {
			log.Warn("alarm: mqtt message not stored", "source", src.ID, "topic", msg.Topic(), "err", err)
		}
	}
	// One client ID per source and process: several servers each keep their
	// own persistent session (the dedup key drops the copies), and never
	// take each other's connection over.
	opts := mqtt.NewClientOptions().AddBroker(src.BrokerURL).SetClientID(fmt.Sprintf("vigil-%s-%s", src.ID[len(src.ID)-12:], processTag)).
		SetCleanSession(false).SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(5 * time.Second).
		SetOrderMatters(true).SetAutoAckDisabled(false)
	opts.SetOnConnectHandler(func(c mqtt.Client) {
		// Subscribe on every (re)connect; QoS 1 so the broker redelivers
		// what we did not acknowledge.
		tok := c.Subscribe(src.Topic, 1, handler)
		if tok.WaitTimeout(10*time.Second) && tok.Error() != nil {
			log.Warn("alarm: mqtt subscribe", "source", src.ID, "topic", src.Topic, "err", tok.Error())
		} else {
			log.Info("alarm: mqtt subscribed", "source", src.ID, "broker", src.BrokerURL, "topic", src.Topic)
		}
	})
	c := mqtt.NewClient(opts)
	c.Connect() // retries in the background (SetConnectRetry)
	return c
}

// handle stores one MQTT message. A JSON object is read as an
// IngestEvent; anything else (a bare "1", "ON", "alarm") raises the
// mapped device's alarm, and "0"/"OFF"/"restore"/"clear" restores it.
func (g *mqttManager) handle(ctx context.Context, src *Source, topic string, payload []byte) error {
	var in IngestEvent
	if len(payload) > 64<<10 {
		return fmt.Errorf("payload of %d bytes is too large", len(payload))
	}
	if err := json.Unmarshal(payload, &in); err != nil || in.Validate() != nil {
		in = IngestEvent{}
		switch strings.ToLower(strings.TrimSpace(string(payload))) {
		case "0", "off", "false", "restore", "clear", "closed", "ok":
			in.Restore = true
		}
	}
	route := topic
	if in.Device != "" {
		route = in.Device
	} else if _, ok := src.DeviceMap[topic]; !ok {
		// Match the last topic level too ("site/sensors/door1" → "door1").
		if i := strings.LastIndexByte(topic, '/'); i >= 0 {
			if _, ok := src.DeviceMap[topic[i+1:]]; ok {
				route = topic[i+1:]
			}
		}
	}
	e := src.normalize(in, route, src.siteName, payload, g.m.S.Now().UTC())
	if e.Description == "" {
		e.Description = topic
	}
	return g.m.S.Ingest(ctx, []Event{e})
}
