package capture_test

import (
	"errors"
	"fmt"
	"io"
	"log"

	"github.com/polder-nsm/polder/sensor/capture"
)

// Reading a capture file to the end, telling a damaged file from a clean end.
func ExampleOpenFile() {
	f, err := capture.OpenFile("trace.pcapng")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	var fr capture.Frame
	for {
		err := f.ReadFrame(&fr)
		if err == io.EOF {
			break
		}
		var damage *capture.DamageError
		if errors.As(err, &damage) {
			// Every frame before damage.Offset was returned.
			log.Printf("%v (kept %d frames)", err, f.Frames())
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		if !fr.LinkType.Supported() {
			log.Fatalf("unsupported link type %v", fr.LinkType) // "unsupported link type 105 (IEEE 802.11)"
		}
		// fr.Data is valid until the next ReadFrame: decode or copy it here.
	}
	read, total := f.Progress()
	fmt.Printf("%d frames, %d of %d bytes\n", f.Frames(), read, total)
}

// One AF_PACKET socket per worker; ErrTimeout gives the worker a chance to
// expire flows by wall clock when the link is quiet.
func ExampleOpenLive() {
	srcs, err := capture.OpenLive(capture.LiveOptions{Interface: "eth0", Workers: 4, FanoutGroup: 99, Promisc: true}, 0)
	if err != nil {
		log.Fatal(err) // e.g. open interface "eth0" (worker 1 of 4): create AF_PACKET ring: operation not permitted (run as root or grant CAP_NET_RAW and CAP_NET_ADMIN)
	}
	for _, s := range srcs {
		go func() {
			defer s.Close()
			var fr capture.Frame
			for {
				switch err := s.ReadFrame(&fr); {
				case err == nil:
					// decode fr
				case errors.Is(err, capture.ErrTimeout):
					// periodic work
				default:
					return // capture.ErrClosed after Stop, or an interface error
				}
			}
		}()
	}
}
