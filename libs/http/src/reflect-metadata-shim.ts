/**
 * The three `Reflect` metadata functions that `@peculiar/x509`'s dependency injection
 * (tsyringe) calls when the module loads: `getMetadata`, `getOwnMetadata`,
 * `defineMetadata`. x509 asks its users to load a polyfill such as `reflect-metadata`;
 * none is installed in this workspace, so this module supplies the subset tsyringe
 * uses (x509 is compiled without `emitDecoratorMetadata`, so reads come back empty).
 * It installs nothing when a real polyfill is already present, and should give way to
 * `reflect-metadata` once that package is a dependency.
 *
 * Import it before `@peculiar/x509` (ES modules evaluate imports in order).
 */

type MetadataStore = WeakMap<object, Map<unknown, unknown>>;

interface ReflectWithMetadata {
  getMetadata?: (key: unknown, target: object) => unknown;
  getOwnMetadata?: (key: unknown, target: object) => unknown;
  defineMetadata?: (key: unknown, value: unknown, target: object) => void;
}

const reflect = Reflect as unknown as ReflectWithMetadata;

if (typeof reflect.getMetadata !== 'function') {
  const store: MetadataStore = new WeakMap();

  const own = (key: unknown, target: object): unknown => store.get(target)?.get(key);

  reflect.getOwnMetadata = own;
  reflect.getMetadata = (key: unknown, target: object): unknown => {
    // Walk the prototype chain, as reflect-metadata does.
    for (let t: object | null = target; t !== null; t = Object.getPrototypeOf(t) as object | null) {
      const value = own(key, t);
      if (value !== undefined) return value;
    }
    return undefined;
  };
  reflect.defineMetadata = (key: unknown, value: unknown, target: object): void => {
    let entries = store.get(target);
    if (entries === undefined) {
      entries = new Map();
      store.set(target, entries);
    }
    entries.set(key, value);
  };
}

export {};
