{
  "name": "@cap/__NAME__",
  "version": "0.1.0",
  "private": true,
  "type": "module",
  "description": "__TITLE__: a Clockify add-on on the platform's SDK",
  "exports": {
    ".": {
      "source": "./src/index.ts",
      "types": "./dist/index.d.ts",
      "default": "./dist/index.js"
    }
  },
  "files": ["dist"],
  "scripts": {
    "build": "tsc -p tsconfig.build.json",
    "typecheck": "tsc -p tsconfig.json",
    "lint": "eslint . --max-warnings=0",
    "test": "cd ../.. && vitest run addons/__NAME__"
  },
  "dependencies": {
    "@cap/addon": "0.1.0",
    "@cap/clockify": "0.1.0"
  },
  "devDependencies": {
    "@cap/db": "0.1.0",
    "@cap/testing": "0.1.0"
  }
}
