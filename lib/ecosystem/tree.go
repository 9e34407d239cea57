package ecosystem

// Every kind of config becomes the same tree before its apps are read:
// *object (keys in the order the file gives them, as JavaScript keeps
// them), []any, string, json.Number, bool and nil. Numbers keep their text
// so that an env value comes out as the file wrote it.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// object is a JSON object that remembers the order of its keys.
type object struct {
	keys []string
	vals map[string]any
}

func newObject() *object { return &object{vals: map[string]any{}} }

func (o *object) set(k string, v any) {
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
}

func (o *object) get(k string) (any, bool) {
	v, ok := o.vals[k]
	return v, ok
}

// parseJSON reads a JSON config: comments and trailing commas are allowed,
// as PM2 reads JSON as JavaScript; anything else JavaScript would take
// (single quotes, bare keys, expressions) is an error naming the line.
func parseJSON(path string, data []byte) (any, error) {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	clean, err := stripJSON(data)
	if err != nil {
		line, col := position(data, err.(*jsonStripError).offset)
		return nil, lineErr(path, line, col, "%s", err)
	}
	// Unmarshal first: its syntax errors have offsets from the start of
	// the data, where the Decoder's tokens count from its buffer.
	var raw json.RawMessage
	err = json.Unmarshal(clean, &raw)
	var v any
	if err == nil {
		v, err = decodeJSON(clean)
	}
	if err != nil {
		var se *json.SyntaxError
		switch {
		case errors.As(err, &se) && se.Error() != "unexpected end of JSON input":
			line, col := position(data, int(max(se.Offset-1, 0)))
			return nil, lineErr(path, line, col, "%s", se)
		case errors.As(err, &se), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
			line, col := position(data, len(bytes.TrimRight(data, " \t\r\n")))
			return nil, lineErr(path, line, col, "unexpected end of file")
		}
		return nil, dataErr(path, "%v", err)
	}
	return v, nil
}

type jsonStripError struct {
	offset int
	msg    string
}

func (e *jsonStripError) Error() string { return e.msg }

// stripJSON blanks out comments and trailing commas. What it removes turns
// into spaces, line breaks kept, so that offsets into the result are
// offsets into the file.
func stripJSON(data []byte) ([]byte, error) {
	out := bytes.Clone(data)
	comma := -1 // a comma that a } or ] may yet make trailing
	for i := 0; i < len(out); i++ {
		c := out[i]
		switch {
		case c == '"':
			j := i + 1
			for j < len(out) && out[j] != '"' {
				if out[j] == '\\' {
					j++
				}
				j++
			}
			i = j
			comma = -1
		case c == '/' && i+1 < len(out) && out[i+1] == '/':
			for i < len(out) && out[i] != '\n' {
				out[i] = ' '
				i++
			}
		case c == '/' && i+1 < len(out) && out[i+1] == '*':
			end := bytes.Index(out[i+2:], []byte("*/"))
			if end < 0 {
				return nil, &jsonStripError{i, "unterminated /* comment"}
			}
			for k := i; k < i+2+end+2; k++ {
				if out[k] != '\n' && out[k] != '\r' {
					out[k] = ' '
				}
			}
			i += 2 + end + 1
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
		case c == ',':
			comma = i
		case c == '}' || c == ']':
			if comma >= 0 {
				out[comma] = ' '
			}
			comma = -1
		default:
			comma = -1
		}
	}
	return out, nil
}

// position turns a byte offset into a line and a column, both from 1.
func position(data []byte, off int) (line, col int) {
	off = min(max(off, 0), len(data))
	before := data[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = off - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}

// decodeJSON decodes one JSON value into the tree.
func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("unexpected data after the JSON value")
	}
	return v, nil
}

func decodeValue(dec *json.Decoder) (any, error) {
	t, err := dec.Token()
	if err != nil {
		return nil, err
	}
	d, ok := t.(json.Delim)
	if !ok {
		return t, nil
	}
	switch d {
	case '{':
		o := newObject()
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			k, _ := kt.(string)
			v, err := decodeValue(dec)
			if err != nil {
				return nil, err
			}
			o.set(k, v)
		}
		_, err := dec.Token()
		return o, err
	case '[':
		list := []any{}
		for dec.More() {
			v, err := decodeValue(dec)
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
		_, err := dec.Token()
		return list, err
	}
	return nil, fmt.Errorf("unexpected %v", d)
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// yamlParserProblems are the messages of libyaml's parser, whose line
// yaml.v3 reports from 0; the line is where the enclosing block or flow
// collection starts.
var yamlParserProblems = []string{
	"did not find expected ',' or ']'", "did not find expected ',' or '}'",
	"did not find expected '-' indicator", "did not find expected <document start>",
	"did not find expected <stream-start>", "did not find expected key",
	"did not find expected node content", "found duplicate %TAG directive",
	"found duplicate %YAML directive", "found incompatible YAML document",
	"found undefined tag handle",
}

// parseYAML reads a YAML config (the first document of the file).
func parseYAML(path string, data []byte) (any, error) {
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		msg := oneLine(err.Error())
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			line, _ := strconv.Atoi(m[1])
			if slices.Contains(yamlParserProblems, m[2]) {
				line++ // yaml.v3 counts these from 0 (it adds 1 for scanner errors only)
			}
			return nil, lineErr(path, line, 0, "%s", m[2])
		}
		return nil, dataErr(path, "%s", strings.TrimPrefix(msg, "yaml: "))
	}
	return fromYAML(v), nil
}

func fromYAML(v any) any {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		o := newObject()
		for _, k := range keys {
			o.set(k, fromYAML(v[k]))
		}
		return o
	case map[any]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[fmt.Sprint(k)] = x
		}
		return fromYAML(m)
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = fromYAML(x)
		}
		return out
	case int:
		return json.Number(strconv.Itoa(v))
	case int64:
		return json.Number(strconv.FormatInt(v, 10))
	case uint64:
		return json.Number(strconv.FormatUint(v, 10))
	case float64:
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return nil
		}
		return json.Number(jsNumber(v))
	case time.Time:
		return v.Format(time.RFC3339Nano)
	case []byte:
		return string(v)
	case string, bool, nil:
		return v
	}
	return fmt.Sprint(v)
}

// numberText writes a number as a string for an env value: a whole
// number as its digits, never with an exponent (1e21 too, where
// JavaScript would write 1e+21), anything else as JavaScript's String(n).
func numberText(n json.Number) string {
	s := string(n)
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return strconv.FormatInt(i, 10)
	}
	if isDigits(strings.TrimPrefix(s, "-")) {
		return s // an integer too large for int64, as the file wrote it
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return s
	}
	if f == math.Trunc(f) && !math.IsInf(f, 0) {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return jsNumber(f)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// jsNumber formats f as JavaScript's Number.prototype.toString does:
// positional notation from 1e-6 up to 1e21, an exponent outside it.
func jsNumber(f float64) string {
	if f == 0 {
		return "0"
	}
	if a := math.Abs(f); a >= 1e-6 && a < 1e21 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	s := strconv.FormatFloat(f, 'e', -1, 64)
	mant, exp, _ := strings.Cut(s, "e")
	sign := exp[0]
	exp = strings.TrimLeft(exp[1:], "0")
	return mant + "e" + string(sign) + exp
}

// encodeJSON writes a tree value as JSON.stringify would: keys in order,
// no HTML escaping.
func encodeJSON(v any) string {
	var b strings.Builder
	writeJSON(&b, v)
	return b.String()
}

func writeJSON(b *strings.Builder, v any) {
	switch v := v.(type) {
	case *object:
		b.WriteByte('{')
		for i, k := range v.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(b, k)
			b.WriteByte(':')
			writeJSON(b, v.vals[k])
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, x := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSON(b, x)
		}
		b.WriteByte(']')
	case string:
		writeJSONString(b, v)
	case json.Number:
		b.WriteString(string(v))
	case bool:
		b.WriteString(strconv.FormatBool(v))
	default:
		b.WriteString("null")
	}
}

func writeJSONString(b *strings.Builder, s string) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	b.Write(bytes.TrimRight(buf.Bytes(), "\n"))
}
