package httpapi

// What TestAPIFuzz (package httpapi_test) needs of the input layer's own tables, so
// the fuzzer knows which inputs break a bound without keeping a copy of the bounds.

// APIFuzzTextRules says how the input layer bounds a JSON field or query parameter of
// this name: at most limit characters, line breaks allowed (multi), not only white
// space (notBlank).
func APIFuzzTextRules(name string) (limit int, multi, notBlank bool) {
	return limitOf(name), multiLine[name], nonBlank[name]
}

// APIFuzzStatusByCode is the one table from domain error codes to HTTP statuses.
var APIFuzzStatusByCode = statusByCode
