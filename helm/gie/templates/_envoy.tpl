{{/*
The standalone Envoy's bootstrap: one listener whose ext_proc filter asks the picker
for each request's endpoint, then routes to it over the pool's endpoints with the
override_host policy (the picker's primary, then its fallbacks; round robin when the
picker did not answer and failureMode is FailOpen; with FailClose, a 503 whose JSON
body says the picker is unavailable).
*/}}

{{- define "gie.envoy.pickerHosts" -}}
{{- $picker := .Values.picker -}}
{{- $host := printf "%s.%s.svc" (include "gie.headlessName" (dict "root" . "component" "picker")) .Release.Namespace -}}
{{- if gt (int $picker.workers) 1 -}}
{{- range $i := until (int $picker.workers) }}
- endpoint: {address: {socket_address: {address: {{ $host }}, port_value: {{ add $picker.ports.workerBase $i }}}}}
{{- end }}
{{- else }}
- endpoint: {address: {socket_address: {address: {{ $host }}, port_value: {{ $picker.ports.grpc }}}}}
{{- end }}
{{- end -}}

{{- /* Filters that copy a response's usage into gie.usage metadata (records path). */ -}}
{{- define "gie.envoy.usageRules" -}}
- selectors: [{key: usage}, {key: prompt_tokens}]
  on_present: {metadata_namespace: gie.usage, key: prompt_tokens, type: NUMBER}
- selectors: [{key: usage}, {key: completion_tokens}]
  on_present: {metadata_namespace: gie.usage, key: completion_tokens, type: NUMBER}
- selectors: [{key: usage}, {key: prompt_tokens_details}, {key: cached_tokens}]
  on_present: {metadata_namespace: gie.usage, key: cached_tokens, type: NUMBER}
{{- end -}}

{{- define "gie.envoy.usageFilters" -}}
- name: envoy.filters.http.sse_to_metadata
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.filters.http.sse_to_metadata.v3.SseToMetadata
    response_rules:
      max_event_size: 1048576
      content_parser:
        name: envoy.content_parsers.json
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.content_parsers.json.v3.JsonContentParser
          rules:
            {{- range $rule := (include "gie.envoy.usageRules" . | fromYamlArray) }}
            - rule: {{ toJson $rule }}
            {{- end }}
- name: envoy.filters.http.json_to_metadata
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.filters.http.json_to_metadata.v3.JsonToMetadata
    response_rules:
      rules:
        {{- include "gie.envoy.usageRules" . | nindent 8 }}
{{- end -}}

{{- /* One record per routed request, batched, to the picker's access-log service. */ -}}
{{- define "gie.envoy.completionRecords" -}}
- name: envoy.access_loggers.http_grpc
  filter:
    metadata_filter:
      matcher: {filter: gie.route, path: [{key: request_id}], value: {present_match: true}}
      match_if_key_not_found: false
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.access_loggers.grpc.v3.HttpGrpcAccessLogConfig
    common_config:
      log_name: gie-completions
      transport_api_version: V3
      grpc_service: {envoy_grpc: {cluster_name: gie_picker}}
      buffer_flush_interval: 0.05s
      buffer_size_bytes: 65536
    additional_request_headers_to_log: [traceparent]
{{- end -}}

{{- define "gie.envoy.config" -}}
{{- $s := .Values.standalone -}}
{{- $records := eq $s.responsePath "records" -}}
{{- $pool := printf "%s.%s.svc" (include "gie.name" (dict "root" . "component" "pool")) .Release.Namespace -}}
admin:
  address: {socket_address: {address: 0.0.0.0, port_value: {{ $s.adminPort }}}}
static_resources:
  listeners:
    - name: gateway
      address: {socket_address: {address: 0.0.0.0, port_value: {{ $s.port }}}}
      filter_chains:
        - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                stat_prefix: gateway
                stream_idle_timeout: 300s
                {{- if $records }}
                access_log:
                  {{- include "gie.envoy.completionRecords" . | nindent 18 }}
                {{- end }}
                # FailClose with no picker answering: 503 and a JSON error, not a bare 500.
                local_reply_config:
                  mappers:
                    - filter:
                        extension_filter:
                          name: envoy.access_loggers.extension_filters.cel
                          typed_config:
                            "@type": type.googleapis.com/envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter
                            expression: "response.code_details.startsWith('ext_proc_error')"
                      status_code: 503
                      body_format_override:
                        json_format:
                          error:
                            message: the endpoint picker is unavailable
                            type: picker_unavailable
                            code: 503
                            details: "%RESPONSE_CODE_DETAILS%"
                route_config:
                  name: gateway
                  virtual_hosts:
                    - name: inference
                      domains: ["*"]
                      routes:
                        - match: {prefix: /}
                          route:
                            cluster: pool
                            timeout: 0s
                            # A refused connection, a reset before the response or a 503
                            # sends the request to the picker's next endpoint.
                            retry_policy:
                              retry_on: connect-failure,refused-stream,reset,retriable-status-codes
                              retriable_status_codes: [503]
                              num_retries: 2
                              retry_back_off: {base_interval: 0.005s, max_interval: 0.05s}
                http_filters:
                  - name: envoy.filters.http.ext_proc
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor
                      # A stream reset by a picker that died is retried on another.
                      grpc_service:
                        envoy_grpc: {cluster_name: gie_picker}
                        retry_policy: {retry_on: "connect-failure,refused-stream,reset", num_retries: 2}
                      failure_mode_allow: {{ eq .Values.inferencePool.failureMode "FailOpen" }}
                      message_timeout: {{ $s.messageTimeoutSeconds }}s
                      allow_mode_override: false
                      # records: the picker never sees responses (Envoy reports their end);
                      # ext-proc: every response chunk streams through the picker.
                      processing_mode:
                        request_header_mode: SEND
                        response_header_mode: {{ ternary "SKIP" "SEND" $records }}
                        request_body_mode: {{ $s.bodyMode }}
                        request_trailer_mode: SEND
                        response_body_mode: {{ ternary "NONE" "FULL_DUPLEX_STREAMED" $records }}
                        response_trailer_mode: {{ ternary "SKIP" "SEND" $records }}
                      metadata_options:
                        receiving_namespaces: {untyped: [envoy.lb{{ if $records }}, gie.route{{ end }}]}
                        forwarding_namespaces: {untyped: [envoy.lb, envoy.lb.subset_hint]}
                  {{- if $records }}
                  {{- include "gie.envoy.usageFilters" . | nindent 18 }}
                  {{- end }}
                  - name: envoy.filters.http.router
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
    # Every picker worker of every ready picker pod is its own host; streams go round
    # robin over them, each host health-checked on the picker's gRPC readiness.
    - name: gie_picker
      type: STRICT_DNS
      dns_lookup_family: V4_ONLY
      lb_policy: ROUND_ROBIN
      connect_timeout: 2s
      # No panic routing: with every picker unhealthy a stream fails at once, before
      # any body went out, so FailOpen still sends the request to the pool.
      common_lb_config: {healthy_panic_threshold: {value: 0}}
      load_assignment:
        cluster_name: gie_picker
        endpoints:
          - lb_endpoints:
              {{- include "gie.envoy.pickerHosts" . | nindent 14 }}
      typed_extension_protocol_options:
        envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
          "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
          explicit_http_config:
            http2_protocol_options: {max_concurrent_streams: 2}
      {{- if .Values.global.tls.extProc.enabled }}
      # The picker is verified: its certificate must chain to ca.crt AND name it.
      transport_socket:
        name: envoy.transport_sockets.tls
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
          sni: {{ include "gie.extProcTlsName" . }}
          common_tls_context:
            alpn_protocols: [h2]
            tls_params: {tls_minimum_protocol_version: TLSv1_2, tls_maximum_protocol_version: TLSv1_3}
            validation_context:
              trusted_ca: {filename: /etc/envoy-tls/ca.crt}
              match_typed_subject_alt_names:
                - san_type: DNS
                  matcher: {exact: {{ include "gie.extProcTlsName" . }}}
            {{- if .Values.global.tls.extProc.mutual }}
            tls_certificates:
              - certificate_chain: {filename: /etc/envoy-tls/tls.crt}
                private_key: {filename: /etc/envoy-tls/tls.key}
            {{- end }}
      {{- end }}
      health_checks:
        - timeout: 1s
          interval: 2s
          # ext_proc streams are not traffic to health checking: without this the
          # checks after the first come once a minute.
          no_traffic_interval: 2s
          unhealthy_threshold: 2
          healthy_threshold: 1
          grpc_health_check: {service_name: readiness}
      # A picker that refuses a connection gets no stream until it answers again.
      outlier_detection:
        split_external_local_origin_errors: true
        consecutive_local_origin_failure: 1
        interval: 1s
        base_ejection_time: 2s
        max_ejection_percent: 100
    # The pool's model servers (a headless Service over the InferencePool's selector).
    - name: pool
      type: STRICT_DNS
      dns_lookup_family: V4_ONLY
      connect_timeout: 2s
      # Envoy's default of 3 concurrent retries would answer 503 instead of the fallback.
      circuit_breakers: {thresholds: [{max_retries: 100000}]}
      {{- if eq .Values.inferencePool.appProtocol "kubernetes.io/h2c" }}
      # The model servers speak cleartext HTTP/2 (inferencePool.appProtocol).
      typed_extension_protocol_options:
        envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
          "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
          explicit_http_config:
            http2_protocol_options: {}
      {{- end }}
      load_assignment:
        cluster_name: pool
        endpoints:
          - lb_endpoints:
              {{- range .Values.inferencePool.targetPorts }}
              - endpoint: {address: {socket_address: {address: {{ $pool }}, port_value: {{ .number }}}}}
              {{- end }}
      load_balancing_policy:
        policies:
          - typed_extension_config:
              name: envoy.load_balancing_policies.override_host
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.load_balancing_policies.override_host.v3.OverrideHost
                override_host_sources:
                  - metadata: {key: envoy.lb, path: [{key: x-gateway-destination-endpoint}]}
                fallback_policy:
                  policies:
                    - typed_extension_config:
                        name: envoy.load_balancing_policies.round_robin
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.load_balancing_policies.round_robin.v3.RoundRobin
{{- end -}}
