/**
 * Every scenario of the Serverless Workflow conformance kit (serverlessworkflow/specification,
 * ctk/features/*.feature), written as our own cases: the workflow and input as the kit gives
 * them, then the kit's expectations. Internet services are served locally (local-services.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { at, runScenario } from '@/test/conformance/harness';
import { PETS, startLocalServices, type LocalServices } from '@/test/conformance/local-services';

let services: LocalServices;
beforeAll(async () => {
  services = await startLocalServices();
});
afterAll(async () => {
  await services.close();
});

const http = () => ({ http: services.http });

describe('ctk/features/branch.feature', () => {
  it('Fork Task With Competing Concurrent Sub Tasks', async () => {
    const { result, output } = await runScenario(`
document:
  dsl: '1.0.3'
  namespace: default
  name: fork
  version: '1.0.0'
do:
  - branchWithCompete:
      fork:
        compete: true
        branches:
          - setRed:
              set:
                colors: \${ .colors + ["red"] }
          - setGreen:
              set:
                colors: \${ .colors + ["green"] }
          - setBlue:
              set:
                colors: \${ .colors + ["blue"] }
`);
    expect(result.status).toBe('completed');
    expect(at(output, 'colors')).toHaveLength(1);
  });
});

describe('ctk/features/call.feature', () => {
  it('Call HTTP With Content Output', async () => {
    const { result, output } = await runScenario(
      `
document:
  dsl: '1.0.0'
  namespace: default
  name: http-call-with-content-output
  version: '1.0.0'
do:
  - findPet:
      call: http
      with:
        method: get
        endpoint:
          uri: https://petstore.swagger.io/v2/pet/findByStatus?status={status}
      output:
        as: .[0]
`,
      { status: 'available' },
      http(),
    );
    expect(result.status).toBe('completed');
    for (const property of ['id', 'name', 'status']) expect(at(output, property)).toBeDefined();
    expect(services.seen).toContain('GET /v2/pet/findByStatus?status=available');
  });

  it('Call HTTP With Response Output', async () => {
    const { result, output } = await runScenario(
      `
document:
  dsl: '1.0.0'
  namespace: default
  name: http-call-with-response-output
  version: '1.0.0'
do:
  - getPet:
      call: http
      with:
        method: get
        endpoint:
          uri: https://petstore.swagger.io/v2/pet/{petId}
        output: response
`,
      { petId: 1 },
      http(),
    );
    expect(result.status).toBe('completed');
    for (const property of ['request', 'request.method', 'request.uri', 'request.headers', 'headers', 'statusCode', 'content', 'content.id', 'content.name', 'content.status']) {
      expect(at(output, property), property).toBeDefined();
    }
    expect(at(output, 'statusCode')).toBe(200);
  });

  it('Call HTTP Using Basic Authentication', async () => {
    const { result, output } = await runScenario(
      `
document:
  dsl: '1.0.0'
  namespace: default
  name: http-call-with-basic-auth
  version: '1.0.0'
do:
  - login:
      call: http
      with:
        method: get
        endpoint:
          uri: https://httpbin.org/basic-auth/{username}/{password}
          authentication:
            basic:
              username: \${ .username }
              password: \${ .password }
`,
      { username: 'serverless-workflow', password: 'conformance-test' },
      http(),
    );
    expect(result.status).toBe('completed');
    expect(output).toEqual({ authenticated: true, user: 'serverless-workflow' });
  });

  it('Call OpenAPI With Content Output', async () => {
    const { result, output } = await runScenario(
      `
document:
  dsl: '1.0.0'
  namespace: default
  name: openapi-call-with-content-output
  version: '1.0.0'
do:
  - findPet:
      call: openapi
      with:
        document:
          endpoint: "https://petstore.swagger.io/v2/swagger.json"
        operationId: findPetsByStatus
        parameters:
          status: \${ .status }
      output:
        as: . | length
`,
      { status: 'available' },
      http(),
    );
    expect(result.status).toBe('completed');
    expect(output).toBe(PETS.filter((p) => p.status === 'available').length);
  });

  it('Call OpenAPI With Response Output', async () => {
    const { result, output } = await runScenario(
      `
document:
  dsl: '1.0.0'
  namespace: default
  name: openapi-call-with-response-output
  version: '1.0.0'
do:
  - getPet:
      call: openapi
      with:
        document:
          endpoint: "https://petstore.swagger.io/v2/swagger.json"
        operationId: getPetById
        parameters:
          petId: \${ .petId }
        output: response
`,
      { petId: 1 },
      http(),
    );
    expect(result.status).toBe('completed');
    for (const property of ['request', 'request.method', 'request.uri', 'request.headers', 'headers', 'statusCode', 'content', 'content.id', 'content.name', 'content.status']) {
      expect(at(output, property), property).toBeDefined();
    }
    expect(at(output, 'request.uri')).toBe('https://petstore.swagger.io/v2/pet/1');
  });
});

describe('ctk/features/data-flow.feature', () => {
  it('Input Filtering', async () => {
    const { result, output } = await runScenario(
      `
document:
  dsl: '1.0.3'
  namespace: default
  name: output-filtering
  version: '1.0.0'
do:
  - setPlayerId:
      input:
        from: .user.claims.subject
      set:
        playerId: \${ . }
`,
      { user: { claims: { subject: '6AsnRgGEB0q2O7ux9JXFAw' } } },
    );
    expect(result.status).toBe('completed');
    expect(output).toEqual({ playerId: '6AsnRgGEB0q2O7ux9JXFAw' });
  });

  it('Output Filtering', async () => {
    const { result, output } = await runScenario(
      `
document:
  dsl: '1.0.3'
  namespace: default
  name: output-filtering
  version: '1.0.0'
do:
  - getPet:
      call: http
      with:
        method: get
        endpoint:
          uri: https://petstore.swagger.io/v2/pet/{petId}
      output:
        as: .id
`,
      { petId: 1 },
      http(),
    );
    expect(result.status).toBe('completed');
    expect(output).toBe(1);
  });

  it('Use Non-object Output', async () => {
    const { result, output } = await runScenario(
      `
document:
  dsl: '1.0.3'
  namespace: default
  name: non-object-output
  version: '1.0.0'
do:
  - getPetById1:
      call: http
      with:
        method: get
        endpoint:
          uri: https://petstore.swagger.io/v2/pet/{petId}
      output:
        as: .id
  - getPetById2:
      call: http
      with:
        method: get
        endpoint:
          uri: https://petstore.swagger.io/v2/pet/2
      output:
        as: '{ ids: [ $input, .id ] }'
`,
      { petId: 1 },
      http(),
    );
    expect(result.status).toBe('completed');
    expect(output).toEqual({ ids: [1, 2] });
  });
});

describe('ctk/features/do.feature', () => {
  it('Task With Sequential Sub Tasks', async () => {
    const { result, output, started } = await runScenario(`
document:
  dsl: '1.0.0'
  namespace: default
  name: do
  version: '1.0.0'
do:
  - compositeExample:
      do:
        - setRed:
            set:
              colors: \${ .colors + ["red"] }
        - setGreen:
            set:
              colors: \${ .colors + ["green"] }
        - setBlue:
            set:
              colors: \${ .colors + ["blue"] }
`);
    expect(result.status).toBe('completed');
    expect(output).toEqual({ colors: ['red', 'green', 'blue'] });
    expect(started).toEqual(['compositeExample', 'setRed', 'setGreen', 'setBlue']);
  });
});

describe('ctk/features/emit.feature', () => {
  it('Emit Task', async () => {
    const { result, output } = await runScenario(
      `
document:
  dsl: '1.0.3'
  namespace: default
  name: emit
  version: '1.0.0'
do:
  - emitEvent:
      emit:
        event:
          with:
            source: https://fake-source.com
            type: com.fake-source.user.greeted.v1
            data:
              greetings: \${ "Hello \\(.user.firstName) \\(.user.lastName)!" }
`,
      { user: { firstName: 'John', lastName: 'Doe' } },
    );
    expect(result.status).toBe('completed');
    for (const property of ['id', 'specversion', 'time', 'source', 'type', 'data']) expect(at(output, property), property).toBeDefined();
    expect(at(output, 'source')).toBe('https://fake-source.com');
    expect(at(output, 'type')).toBe('com.fake-source.user.greeted.v1');
    expect(at(output, 'data')).toEqual({ greetings: 'Hello John Doe!' });
  });
});

describe('ctk/features/flow.feature', () => {
  it('Implicit Sequence Flow', async () => {
    const { result, output, started } = await runScenario(`
document:
  dsl: '1.0.0'
  namespace: default
  name: implicit-sequence
  version: '1.0.0'
do:
  - setRed:
      set:
        colors: '\${ .colors + [ "red" ] }'
  - setGreen:
      set:
        colors: '\${ .colors + [ "green" ] }'
  - setBlue:
      set:
        colors: '\${ .colors + [ "blue" ] }'
`);
    expect(result.status).toBe('completed');
    expect(output).toEqual({ colors: ['red', 'green', 'blue'] });
    expect(started).toEqual(['setRed', 'setGreen', 'setBlue']);
  });

  it('Explicit Sequence Flow', async () => {
    const { result, output, started } = await runScenario(`
document:
  dsl: '1.0.0'
  namespace: default
  name: explicit-sequence
  version: '1.0.0'
do:
  - setRed:
      set:
        colors: '\${ .colors + [ "red" ] }'
      then: setGreen
  - setBlue:
      set:
        colors: '\${ .colors + [ "blue" ] }'
      then: end
  - setGreen:
      set:
        colors: '\${ .colors + [ "green" ] }'
      then: setBlue
`);
    expect(result.status).toBe('completed');
    expect(output).toEqual({ colors: ['red', 'green', 'blue'] });
    expect(started).toEqual(['setRed', 'setGreen', 'setBlue']);
  });
});

describe('ctk/features/for.feature', () => {
  it('For Task', async () => {
    const { result, output } = await runScenario(
      `
document:
  dsl: '1.0.0'
  namespace: default
  name: for
  version: '1.0.0'
do:
  - loopColors:
      for:
        each: color
        in: '.colors'
      do:
        - markProcessed:
            set:
              processed: '\${ { colors: (.processed.colors + [ $color ]), indexes: (.processed.indexes + [ $index ])} }'
`,
      { colors: ['red', 'green', 'blue'] },
    );
    expect(result.status).toBe('completed');
    expect(output).toEqual({ processed: { colors: ['red', 'green', 'blue'], indexes: [0, 1, 2] } });
  });
});

describe('ctk/features/raise.feature', () => {
  it('Raise task with inline error', async () => {
    const { result } = await runScenario(`
document:
  dsl: '1.0.3'
  namespace: default
  name: raise-custom-error
  version: '1.0.0'
do:
  - raiseError:
      raise:
        error:
          status: 400
          type: https://serverlessworkflow.io/errors/types/compliance
          title: Compliance Error
`);
    expect(result.status).toBe('faulted');
    if (result.status !== 'faulted') return;
    expect(result.error).toEqual({ status: 400, type: 'https://serverlessworkflow.io/errors/types/compliance', title: 'Compliance Error', instance: '/do/0/raiseError' });
  });
});

describe('ctk/features/set.feature', () => {
  it('Set Task', async () => {
    const { result, output } = await runScenario(
      `
document:
  dsl: '1.0.0'
  namespace: default
  name: set
do:
  - setShape:
      set:
        shape: circle
        size: \${ .configuration.size }
        fill: \${ .configuration.fill }
`,
      { configuration: { size: { width: 6, height: 6 }, fill: { red: 69, green: 69, blue: 69 } } },
    );
    expect(result.status).toBe('completed');
    expect(output).toEqual({ shape: 'circle', size: { width: 6, height: 6 }, fill: { red: 69, green: 69, blue: 69 } });
  });
});

const SWITCH_TASKS = `
  - setRed:
      set:
        colors: '\${ .colors + [ "red" ] }'
      then: end
  - setGreen:
      set:
        colors: '\${ .colors + [ "green" ] }'
      then: end
  - setBlue:
      set:
        colors: '\${ .colors + [ "blue" ] }'
      then: end
`;

describe('ctk/features/switch.feature', () => {
  it('Switch task with matching case', async () => {
    const { result, output, started } = await runScenario(
      `
document:
  dsl: '1.0.3'
  namespace: default
  name: switch-match
  version: '1.0.0'
do:
  - switchColor:
      switch:
        - red:
            when: '.color == "red"'
            then: setRed
        - green:
            when: '.color == "green"'
            then: setGreen
        - blue:
            when: '.color == "blue"'
            then: setBlue
${SWITCH_TASKS}`,
      { color: 'red' },
    );
    expect(result.status).toBe('completed');
    expect(output).toEqual({ colors: ['red'] });
    expect(started[0]).toBe('switchColor');
    expect(started.at(-1)).toBe('setRed');
  });

  it('Switch task with implicit default case', async () => {
    const { result, output, started } = await runScenario(
      `
document:
  dsl: '1.0.3'
  namespace: default
  name: switch-default-implicit
  version: '1.0.0'
do:
  - switchColor:
      switch:
        - red:
            when: '.color == "red"'
            then: setRed
        - green:
            when: '.color == "green"'
            then: setGreen
        - blue:
            when: '.color == "blue"'
            then: setBlue
      then: end
  - setRed:
      set:
        colors: '\${ .colors + [ "red" ] }'
  - setGreen:
      set:
        colors: '\${ .colors + [ "green" ] }'
  - setBlue:
      set:
        colors: '\${ .colors + [ "blue" ] }'
`,
      { color: 'yellow' },
    );
    expect(result.status).toBe('completed');
    expect(output).toEqual({ color: 'yellow' });
    expect(started).toEqual(['switchColor']);
  });

  it('Switch task with explicit default case', async () => {
    const { result, output, started } = await runScenario(
      `
document:
  dsl: '1.0.3'
  namespace: default
  name: switch-default-implicit
  version: '1.0.0'
do:
  - switchColor:
      switch:
        - red:
            when: '.color == "red"'
            then: setRed
        - green:
            when: '.color == "green"'
            then: setGreen
        - blue:
            when: '.color == "blue"'
            then: setBlue
        - anyOtherColor:
            then: setCustomColor
  - setRed:
      set:
        colors: '\${ .colors + [ "red" ] }'
  - setGreen:
      set:
        colors: '\${ .colors + [ "green" ] }'
  - setBlue:
      set:
        colors: '\${ .colors + [ "blue" ] }'
  - setCustomColor:
      set:
        colors: '\${ .colors + [ $input.color ] }'
`,
      { color: 'yellow' },
    );
    expect(result.status).toBe('completed');
    expect(output).toEqual({ colors: ['yellow'] });
    expect(started[0]).toBe('switchColor');
    expect(started.at(-1)).toBe('setCustomColor');
  });
});

const tryWorkflow = (name: string, status: number) => `
document:
  dsl: '1.0.0'
  namespace: default
  name: ${name}
  version: '1.0.0'
do:
  - tryGetPet:
      try:
        - getPet:
            call: http
            with:
              method: get
              endpoint:
                uri: https://petstore.swagger.io/v2/pet/getPetByName/{petName}
      catch:
        errors:
          with:
            type: https://serverlessworkflow.io/dsl/errors/types/communication
            status: ${status}
        as: err
        do:
          - setError:
              set:
                error: \${ $err }
`;

describe('ctk/features/try.feature', () => {
  it('Try Handle Caught Error', async () => {
    const { result, output } = await runScenario(tryWorkflow('try-catch-404', 404), { petName: 'Milou' }, http());
    expect(result.status).toBe('completed');
    for (const property of ['error', 'error.type', 'error.status', 'error.title']) expect(at(output, property), property).toBeDefined();
    expect(at(output, 'error.instance')).toBe('/do/0/tryGetPet/try/0/getPet');
  });

  it('Try Raise Uncaught Error', async () => {
    const { result } = await runScenario(tryWorkflow('try-catch-503', 503), { petName: 'Milou' }, http());
    expect(result.status).toBe('faulted');
  });
});
