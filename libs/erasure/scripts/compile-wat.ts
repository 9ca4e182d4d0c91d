/** WAT → WebAssembly bytes with wabt (a devDependency: used at build and test time only). */
import wabtInit from 'wabt';

export async function compileGfSimd(wat: string): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const module = wabt.parseWat('gf-simd.wat', wat, { simd: true });
  try {
    module.validate();
    return new Uint8Array(module.toBinary({}).buffer);
  } finally {
    module.destroy();
  }
}
