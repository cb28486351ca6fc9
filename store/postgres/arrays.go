package postgres

import "fmt"

// The statements that group commit runs for many writes at once
// (createKeys, and the versions of createKey and updateKeyVersions) take
// columns as arrays, which PostgreSQL unnests back into rows.

// versionArrays returns rows of encodeVersions as the four arrays of
// versionsFrom: numbers, created times, states and materials. A nil
// material stays NULL.
func versionArrays(rows [][]any) []any {
	numbers := make([]int64, len(rows))
	created := make([]*int64, len(rows))
	states := make([]string, len(rows))
	materials := make([][]byte, len(rows))
	for i, row := range rows {
		numbers[i], created[i], states[i], materials[i] = row[1].(int64), row[2].(*int64), row[3].(string), row[4].([]byte)
	}
	return []any{numbers, created, states, materials}
}

// createArrays returns the parameters of createKeys for the creates of
// batch at indexes: each column of the keys, then each column of their
// versions, as arrays.
func createArrays(batch []*pending, indexes []int) []any {
	const keyCols, versionCols = 17, 5
	cols := make([][]any, keyCols+versionCols)
	for _, i := range indexes {
		a := batch[i].w.create
		for c, v := range a.row {
			cols[c] = append(cols[c], v)
		}
		for _, row := range a.versions {
			for c, v := range row {
				cols[keyCols+c] = append(cols[keyCols+c], v)
			}
		}
	}
	args := make([]any, len(cols))
	for c, col := range cols {
		args[c] = typedArray(col)
	}
	return args
}

// typedArray converts a column of values of one type (those encodeKey and
// encodeVersion return) into a slice of that type, which pgx sends as an
// array; an empty column is an empty text array, cast by the statement.
func typedArray(col []any) any {
	if len(col) == 0 {
		return []string{}
	}
	switch col[0].(type) {
	case string:
		return typed[string](col)
	case []byte:
		return typed[[]byte](col)
	case bool:
		return typed[bool](col)
	case int64:
		return typed[int64](col)
	case *int64:
		return typed[*int64](col)
	}
	panic(fmt.Sprintf("postgres store: no array of %T", col[0]))
}

func typed[T any](col []any) []T {
	out := make([]T, len(col))
	for i, v := range col {
		out[i] = v.(T)
	}
	return out
}
