package bolt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/keycustodian/custodian/store"
)

// formatV1 is the first byte of every key and version value written by this
// package. A later format gets a new byte, so a reader can tell which
// decoder (or migration) a value needs.
const formatV1 byte = 1

// errCorrupt marks a value that does not decode.
var errCorrupt = errors.New("corrupt record")

// encoder appends the primitives of format 1: strings and byte slices as a
// uvarint length and the bytes, integers big-endian at fixed width, times as
// Unix seconds (int64) and nanoseconds (uint32) in UTC.
type encoder struct{ b []byte }

func (e *encoder) str(s string) {
	e.b = binary.AppendUvarint(e.b, uint64(len(s)))
	e.b = append(e.b, s...)
}
func (e *encoder) bytes(p []byte) {
	e.b = binary.AppendUvarint(e.b, uint64(len(p)))
	e.b = append(e.b, p...)
}
func (e *encoder) u32(v uint32)             { e.b = binary.BigEndian.AppendUint32(e.b, v) }
func (e *encoder) u64(v uint64)             { e.b = binary.BigEndian.AppendUint64(e.b, v) }
func (e *encoder) duration(d time.Duration) { e.u64(uint64(d)) }

func (e *encoder) boolean(v bool) {
	var b byte
	if v {
		b = 1
	}
	e.b = append(e.b, b)
}
func (e *encoder) time(t time.Time) {
	e.u64(uint64(t.Unix()))
	e.u32(uint32(t.Nanosecond()))
}

// decoder reads what encoder wrote. Reading past the end sets err and
// yields zero values, so that corrupt input errors and never panics.
// Every string and slice it returns is a fresh copy, never an alias of the
// input (which may be memory owned by a bbolt transaction).
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errCorrupt
	}
	d.b = nil
}

func (d *decoder) next(n uint64) []byte {
	if d.err != nil || n > uint64(len(d.b)) {
		d.fail()
		return nil
	}
	p := d.b[:n]
	d.b = d.b[n:]
	return p
}

func (d *decoder) length() uint64 {
	if d.err != nil {
		return 0
	}
	n, k := binary.Uvarint(d.b)
	var buf [binary.MaxVarintLen64]byte
	if k <= 0 || k != binary.PutUvarint(buf[:], n) { // overlong forms are not canonical
		d.fail()
		return 0
	}
	d.b = d.b[k:]
	return n
}

func (d *decoder) str() string { return string(d.next(d.length())) }

func (d *decoder) bytes() []byte {
	p := d.next(d.length())
	if len(p) == 0 {
		return nil
	}
	return slices.Clone(p)
}

func (d *decoder) u32() uint32 {
	if p := d.next(4); p != nil {
		return binary.BigEndian.Uint32(p)
	}
	return 0
}

func (d *decoder) u64() uint64 {
	if p := d.next(8); p != nil {
		return binary.BigEndian.Uint64(p)
	}
	return 0
}

func (d *decoder) boolean() bool {
	p := d.next(1)
	if p == nil || p[0] > 1 {
		d.fail()
		return false
	}
	return p[0] == 1
}

func (d *decoder) duration() time.Duration { return time.Duration(d.u64()) }

// zeroUnix is time.Time{}.Unix(): the zero time decodes back to the zero
// value, so IsZero still holds after a round trip.
var zeroUnix = time.Time{}.Unix()

func (d *decoder) time() time.Time {
	sec, nsec := int64(d.u64()), d.u32()
	if nsec >= 1e9 || sec > 1<<62 || sec < -1<<62 { // far outside what time.Time round-trips
		d.fail()
		return time.Time{}
	}
	if sec == zeroUnix && nsec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec)).UTC()
}

// header checks the format byte.
func (d *decoder) header(kind string) {
	p := d.next(1)
	if d.err == nil && p[0] != formatV1 {
		d.err = fmt.Errorf("%s record format %d: unsupported (this build reads %d)", kind, p[0], formatV1)
	}
}

// end reports trailing bytes as corruption.
func (d *decoder) end() {
	if d.err == nil && len(d.b) != 0 {
		d.fail()
	}
}

// encodeKey returns the format 1 encoding of k. Labels are written in
// sorted order so that equal keys encode to equal bytes.
func encodeKey(k store.Key) []byte {
	e := encoder{b: make([]byte, 0, 128)}
	e.b = append(e.b, formatV1)
	e.str(k.ID)
	e.str(k.Name)
	e.str(k.Type)
	e.str(k.Usage)
	e.str(k.Description)
	e.b = binary.AppendUvarint(e.b, uint64(len(k.Labels)))
	for _, name := range slices.Sorted(maps.Keys(k.Labels)) {
		e.str(name)
		e.str(k.Labels[name])
	}
	e.boolean(k.Exportable)
	e.str(k.State)
	e.str(k.StateBeforeDeletion)
	e.time(k.DeletionDate)
	e.time(k.Created)
	e.time(k.Updated)
	e.u32(k.PrimaryVersion)
	e.u32(k.LatestVersion)
	e.u32(k.MinDecryptionVersion)
	e.duration(k.RotationPeriod)
	e.bytes(k.Seal)
	e.u64(k.Revision)
	return e.b
}

// decodeKey parses a key value. The result shares no memory with b.
func decodeKey(b []byte) (store.Key, error) {
	d := decoder{b: b}
	d.header("key")
	var k store.Key
	k.ID = d.str()
	k.Name = d.str()
	k.Type = d.str()
	k.Usage = d.str()
	k.Description = d.str()
	if n := d.length(); n > 0 {
		if n > uint64(len(d.b)) { // each label takes at least two bytes
			d.fail()
		} else {
			k.Labels = make(map[string]string, n)
			prev := ""
			for i := range n {
				name := d.str()
				if i > 0 && name <= prev { // the encoding is canonical: sorted, no repeats
					d.fail()
				}
				k.Labels[name], prev = d.str(), name
			}
		}
	}
	k.Exportable = d.boolean()
	k.State = d.str()
	k.StateBeforeDeletion = d.str()
	k.DeletionDate = d.time()
	k.Created = d.time()
	k.Updated = d.time()
	k.PrimaryVersion = d.u32()
	k.LatestVersion = d.u32()
	k.MinDecryptionVersion = d.u32()
	k.RotationPeriod = d.duration()
	k.Seal = d.bytes()
	k.Revision = d.u64()
	d.end()
	if d.err != nil {
		return store.Key{}, d.err
	}
	return k, nil
}

// encodeVersion returns the format 1 encoding of v. Material is written as
// is: it arrives sealed, and this package does not encrypt.
func encodeVersion(v store.Version) []byte {
	e := encoder{b: make([]byte, 0, 48+len(v.KeyID)+len(v.State)+len(v.Material))}
	e.b = append(e.b, formatV1)
	e.str(v.KeyID)
	e.u32(v.Number)
	e.time(v.Created)
	e.str(v.State)
	e.bytes(v.Material)
	return e.b
}

// decodeVersion parses a version value. The result shares no memory with b.
func decodeVersion(b []byte) (store.Version, error) {
	d := decoder{b: b}
	d.header("version")
	var v store.Version
	v.KeyID = d.str()
	v.Number = d.u32()
	v.Created = d.time()
	v.State = d.str()
	v.Material = d.bytes()
	d.end()
	if d.err != nil {
		return store.Version{}, d.err
	}
	return v, nil
}
