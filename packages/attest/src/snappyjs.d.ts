declare module 'snappyjs' {
  /** Raw snappy block; throws when the stated length is above maxLength or the data is corrupt. */
  export function uncompress(compressed: Uint8Array, maxLength?: number): Uint8Array;
  export function compress(data: Uint8Array): Uint8Array;
  const snappy: { uncompress: typeof uncompress; compress: typeof compress };
  export default snappy;
}
