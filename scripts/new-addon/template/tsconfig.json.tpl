{
  "extends": "../../tsconfig.base.json",
  "compilerOptions": {
    "noEmit": true,
    "customConditions": ["source"]
  },
  "include": ["src", "test"]
}
