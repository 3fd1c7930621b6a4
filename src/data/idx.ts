// IDX files (LeCun's MNIST format): magic 0x00 0x00 <type code> <ndims>, then ndims big-endian u32
// dimensions, then the data, big-endian, row-major. Every size is checked against the byte length
// before anything is allocated, so a hostile header can neither hang the parser nor ask for
// gigabytes.

export type IdxDtype = "uint8" | "int8" | "int16" | "int32" | "float32" | "float64";

export type IdxTensor =
  | { dtype: "uint8"; shape: number[]; data: Uint8Array }
  | { dtype: "int8"; shape: number[]; data: Int8Array }
  | { dtype: "int16"; shape: number[]; data: Int16Array }
  | { dtype: "int32"; shape: number[]; data: Int32Array }
  | { dtype: "float32"; shape: number[]; data: Float32Array }
  | { dtype: "float64"; shape: number[]; data: Float64Array };

interface DtypeInfo {
  dtype: IdxDtype;
  bytes: number;
}

const TYPE_CODES: ReadonlyMap<number, DtypeInfo> = new Map([
  [0x08, { dtype: "uint8", bytes: 1 }],
  [0x09, { dtype: "int8", bytes: 1 }],
  [0x0b, { dtype: "int16", bytes: 2 }],
  [0x0c, { dtype: "int32", bytes: 4 }],
  [0x0d, { dtype: "float32", bytes: 4 }],
  [0x0e, { dtype: "float64", bytes: 8 }],
]);

/** The IDX type code of each dtype (for writing files). */
export const IDX_TYPE_CODE: Readonly<Record<IdxDtype, number>> = {
  uint8: 0x08,
  int8: 0x09,
  int16: 0x0b,
  int32: 0x0c,
  float32: 0x0d,
  float64: 0x0e,
};

/** More dimensions than any real data set has; the format allows 255. */
export const IDX_MAX_DIMS = 16;

const hex = (b: number) => "0x" + b.toString(16).padStart(2, "0");

/**
 * Parses an IDX file. `name` (the file name) starts every error message.
 * uint8 and int8 data are views over `bytes` (no copy); wider types are decoded into new arrays.
 */
export function parseIdx(bytes: Uint8Array, name = "<bytes>"): IdxTensor {
  const fail = (problem: string): never => {
    throw new Error(`${name}: ${problem}`);
  };
  if (!(bytes instanceof Uint8Array)) fail(`expected the file's bytes as a Uint8Array, got ${describe(bytes)}`);
  const length = bytes.length;
  if (length === 0) fail("empty file (0 bytes), expected an IDX file");
  if (length < 4) fail(`truncated: ${length} bytes, an IDX header needs at least 4`);

  const magic = Array.from(bytes.subarray(0, 4), hex).join(" ");
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    fail(`not an IDX file: magic bytes are ${magic}, expected 0x00 0x00 <type code> <number of dimensions>`);
  }
  const info = TYPE_CODES.get(bytes[2]);
  if (!info) {
    const known = [...TYPE_CODES].map(([code, { dtype }]) => `${hex(code)} ${dtype}`).join(", ");
    fail(`unknown IDX type code ${hex(bytes[2])} (magic ${magic}), expected one of ${known}`);
  }
  const { dtype, bytes: elementBytes } = info!;
  const ndims = bytes[3];
  if (ndims > IDX_MAX_DIMS) fail(`too many dimensions: header says ${ndims}, at most ${IDX_MAX_DIMS} supported`);

  const headerBytes = 4 + 4 * ndims;
  if (length < headerBytes) {
    fail(`truncated: the header of ${ndims} dimensions needs ${headerBytes} bytes, file has ${length}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  for (let d = 0; d < ndims; d++) shape.push(view.getUint32(4 + 4 * d, false));

  // BigInt: 16 dimensions of up to 2^32 overflow a double's exact range.
  const expected = shape.reduce((product, dim) => product * BigInt(dim), 1n) * BigInt(elementBytes);
  const available = length - headerBytes;
  if (expected !== BigInt(available)) {
    const dims = ndims === 0 ? "a scalar" : shape.join("x");
    const values = elementBytes === 1 ? "" : ` ${dtype} values of ${elementBytes} bytes`;
    const said = `header says ${dims}${values} = ${expected} bytes of data`;
    if (expected > BigInt(available)) fail(`truncated: ${said}, file has ${available} (after the ${headerBytes}-byte header)`);
    fail(`trailing bytes: ${said}, file has ${BigInt(available) - expected} more (${available} after the ${headerBytes}-byte header)`);
  }

  const count = available / elementBytes;
  const start = bytes.byteOffset + headerBytes;
  switch (dtype) {
    case "uint8":
      return { dtype, shape, data: new Uint8Array(bytes.buffer, start, count) };
    case "int8":
      return { dtype, shape, data: new Int8Array(bytes.buffer, start, count) };
    case "int16": {
      const data = new Int16Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getInt16(headerBytes + 2 * i, false);
      return { dtype, shape, data };
    }
    case "int32": {
      const data = new Int32Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getInt32(headerBytes + 4 * i, false);
      return { dtype, shape, data };
    }
    case "float32": {
      const data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getFloat32(headerBytes + 4 * i, false);
      return { dtype, shape, data };
    }
    case "float64": {
      const data = new Float64Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getFloat64(headerBytes + 8 * i, false);
      return { dtype, shape, data };
    }
  }
}

/** Writes an IDX file: the inverse of `parseIdx` (for tests, and for exporting data). */
export function encodeIdx(dtype: IdxDtype, shape: readonly number[], data: ArrayLike<number>): Uint8Array {
  if (shape.length > IDX_MAX_DIMS) throw new Error(`encodeIdx: ${shape.length} dimensions, at most ${IDX_MAX_DIMS} supported`);
  for (const dim of shape) {
    if (!Number.isInteger(dim) || dim < 0 || dim > 0xffffffff) throw new Error(`encodeIdx: dimension ${dim} is not a u32 (shape [${shape}])`);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  if (data.length !== count) throw new Error(`encodeIdx: shape [${shape}] has ${count} elements, data has ${data.length}`);
  const elementBytes = dtype === "uint8" || dtype === "int8" ? 1 : dtype === "int16" ? 2 : dtype === "float64" ? 8 : 4;
  const headerBytes = 4 + 4 * shape.length;
  const out = new Uint8Array(headerBytes + count * elementBytes);
  const view = new DataView(out.buffer);
  out[2] = IDX_TYPE_CODE[dtype];
  out[3] = shape.length;
  shape.forEach((dim, d) => view.setUint32(4 + 4 * d, dim, false));
  for (let i = 0; i < count; i++) {
    const at = headerBytes + i * elementBytes;
    const value = data[i];
    switch (dtype) {
      case "uint8": view.setUint8(at, value); break;
      case "int8": view.setInt8(at, value); break;
      case "int16": view.setInt16(at, value, false); break;
      case "int32": view.setInt32(at, value, false); break;
      case "float32": view.setFloat32(at, value, false); break;
      case "float64": view.setFloat64(at, value, false); break;
    }
  }
  return out;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return (value as object).constructor?.name ?? "object";
  return typeof value;
}
